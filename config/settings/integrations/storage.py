"""File storage (tessera.files): local files in the embedded default, S3 when a bucket is set.

S3 settings keep django-storages' names; credentials may also come from boto3's own chain
(environment, instance role) when AWS_ACCESS_KEY_ID is left empty.
"""

from config.settings.env import env

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
FILES_STORAGE_BACKEND = env.str(
    "FILES_STORAGE_BACKEND", default="s3" if AWS_STORAGE_BUCKET_NAME else "local"
)
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
# MinIO, moto or another S3-compatible server; path-style addressing usually goes with it.
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
AWS_S3_ADDRESSING_STYLE = env.str("AWS_S3_ADDRESSING_STYLE", default="") or None
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="")
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="")

# A CDN (or any base URL) in front of the public files; empty serves them from the bucket
# (S3) or MEDIA_URL (local).
FILES_PUBLIC_BASE_URL = env.str("FILES_PUBLIC_BASE_URL", default="")
FILES_PRIVATE_URL_TTL_SECONDS = env.int("FILES_PRIVATE_URL_TTL_SECONDS", default=300)
FILES_UPLOAD_URL_TTL_SECONDS = env.int("FILES_UPLOAD_URL_TTL_SECONDS", default=3600)
FILES_UPLOAD_RATE = env.str("FILES_UPLOAD_RATE", default="120/hour")
FILES_ORPHAN_GRACE_HOURS = env.int("FILES_ORPHAN_GRACE_HOURS", default=24)
FILES_REJECTED_RETENTION_DAYS = env.int("FILES_REJECTED_RETENTION_DAYS", default=7)

# Uploads stream to a temporary file by tessera.files' own handler whatever their size;
# this only governs Django's default handlers (the admin's forms), kept small.
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default="") or None
