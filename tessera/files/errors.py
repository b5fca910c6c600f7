"""The files module's error codes. Every refusal of client input is a 4xx with one of these."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tessera.core.errors import (
    ApplicationError,
    ConflictError,
    ErrorCode,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)


class FilesErrorCode(ErrorCode):
    FILE_NOT_FOUND = "file_not_found"
    FILE_TOO_LARGE = "file_too_large"
    FILE_EMPTY = "file_empty"
    FILE_MISSING = "file_missing"
    INVALID_FILE_NAME = "invalid_file_name"
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    MALFORMED_UPLOAD = "malformed_upload"
    SUSPICIOUS_FILE = "suspicious_file"
    INVALID_IMAGE = "invalid_image"
    IMAGE_TOO_LARGE = "image_too_large"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    SIZE_MISMATCH = "size_mismatch"
    TYPE_MISMATCH = "type_mismatch"
    UPLOAD_MISSING = "upload_missing"
    UPLOAD_NOT_PENDING = "upload_not_pending"
    UPLOAD_EXPIRED = "upload_expired"
    FILE_REJECTED = "file_rejected"
    INVALID_PURPOSE = "invalid_purpose"
    INVALID_VISIBILITY = "invalid_visibility"
    FILE_PURPOSE_MISMATCH = "file_purpose_mismatch"
    FILE_NOT_ATTACHABLE = "file_not_attachable"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    LINK_INVALID = "link_invalid"


class StoredFileNotFoundError(NotFoundError):
    code = FilesErrorCode.FILE_NOT_FOUND
    default_message = _("No file with this id.")


class FileTooLargeError(PayloadTooLargeError):
    code = FilesErrorCode.FILE_TOO_LARGE
    default_message = _("The file is larger than this purpose allows.")


class EmptyFileError(InvalidInputError):
    code = FilesErrorCode.FILE_EMPTY
    default_message = _("The file is empty.")


class FileMissingError(InvalidInputError):
    code = FilesErrorCode.FILE_MISSING
    default_message = _("Send the file as the multipart field `file`, with a file name.")


class InvalidFileNameError(InvalidInputError):
    code = FilesErrorCode.INVALID_FILE_NAME
    default_message = _("The file name is not valid.")


class UnsupportedFileTypeError(UnsupportedMediaTypeError):
    code = FilesErrorCode.UNSUPPORTED_FILE_TYPE
    default_message = _("This kind of file is not accepted for this purpose.")


class NotMultipartError(UnsupportedMediaTypeError):
    default_message = _("Send the file as multipart/form-data.")


class MalformedUploadError(ApplicationError):
    status_code = 400
    code = FilesErrorCode.MALFORMED_UPLOAD
    default_message = _("The multipart body could not be read.")


class SuspiciousFileError(InvalidInputError):
    code = FilesErrorCode.SUSPICIOUS_FILE
    default_message = _("The file carries content that does not belong in its type.")


class InvalidImageError(InvalidInputError):
    code = FilesErrorCode.INVALID_IMAGE
    default_message = _("The image could not be read.")


class ImageTooLargeError(InvalidInputError):
    code = FilesErrorCode.IMAGE_TOO_LARGE
    default_message = _("The image has more pixels than this purpose allows.")


class ChecksumMismatchError(InvalidInputError):
    code = FilesErrorCode.CHECKSUM_MISMATCH
    default_message = _("The file's SHA-256 does not match the one declared.")


class SizeMismatchError(InvalidInputError):
    code = FilesErrorCode.SIZE_MISMATCH
    default_message = _("The file's size does not match the one declared.")


class TypeMismatchError(InvalidInputError):
    code = FilesErrorCode.TYPE_MISMATCH
    default_message = _("The file's content does not match the declared content type.")


class UploadMissingError(ConflictError):
    code = FilesErrorCode.UPLOAD_MISSING
    default_message = _("Nothing has been uploaded for this file yet.")


class UploadNotPendingError(ConflictError):
    code = FilesErrorCode.UPLOAD_NOT_PENDING
    default_message = _("This file is not waiting for an upload.")


class UploadExpiredError(ApplicationError):
    status_code = 410
    code = FilesErrorCode.UPLOAD_EXPIRED
    default_message = _("The upload window for this file has closed. Start a new upload.")


class FileRejectedError(ConflictError):
    code = FilesErrorCode.FILE_REJECTED
    default_message = _("This file was rejected.")


class InvalidPurposeError(InvalidInputError):
    code = FilesErrorCode.INVALID_PURPOSE
    default_message = _("Clients cannot upload files for this purpose.")


class InvalidVisibilityError(InvalidInputError):
    code = FilesErrorCode.INVALID_VISIBILITY
    default_message = _("This purpose does not allow that visibility.")


class FilePurposeMismatchError(InvalidInputError):
    code = FilesErrorCode.FILE_PURPOSE_MISMATCH
    default_message = _("This file was uploaded for another purpose.")


class FileNotAttachableError(ConflictError):
    code = FilesErrorCode.FILE_NOT_ATTACHABLE
    default_message = _("This file cannot be attached (it is rejected or not uploaded yet).")


class StorageUnavailableError(ApplicationError):
    status_code = 503
    code = FilesErrorCode.STORAGE_UNAVAILABLE
    default_message = _("File storage is unavailable. Try again shortly.")


class LinkInvalidError(ApplicationError):
    """A signed download or upload link that is forged, altered or expired."""

    status_code = 403
    code = FilesErrorCode.LINK_INVALID
    default_message = _("This link is invalid or has expired.")
