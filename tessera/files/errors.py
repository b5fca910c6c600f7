"""The files module's error codes. Every refusal of client input is a 4xx with one of these."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tessera.core.errors import (
    ApplicationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)


class StoredFileNotFoundError(NotFoundError):
    code = "file_not_found"
    default_message = _("No file with this id.")


class FileTooLargeError(PayloadTooLargeError):
    code = "file_too_large"
    default_message = _("The file is larger than this purpose allows.")


class EmptyFileError(InvalidInputError):
    code = "file_empty"
    default_message = _("The file is empty.")


class FileMissingError(InvalidInputError):
    code = "file_missing"
    default_message = _("Send the file as the multipart field `file`, with a file name.")


class InvalidFileNameError(InvalidInputError):
    code = "invalid_file_name"
    default_message = _("The file name is not valid.")


class UnsupportedFileTypeError(UnsupportedMediaTypeError):
    code = "unsupported_file_type"
    default_message = _("This kind of file is not accepted for this purpose.")


class NotMultipartError(UnsupportedMediaTypeError):
    code = "unsupported_media_type"
    default_message = _("Send the file as multipart/form-data.")


class MalformedUploadError(ApplicationError):
    status_code = 400
    code = "malformed_upload"
    default_message = _("The multipart body could not be read.")


class SuspiciousFileError(InvalidInputError):
    code = "suspicious_file"
    default_message = _("The file carries content that does not belong in its type.")


class InvalidImageError(InvalidInputError):
    code = "invalid_image"
    default_message = _("The image could not be read.")


class ImageTooLargeError(InvalidInputError):
    code = "image_too_large"
    default_message = _("The image has more pixels than this purpose allows.")


class ChecksumMismatchError(InvalidInputError):
    code = "checksum_mismatch"
    default_message = _("The file's SHA-256 does not match the one declared.")


class SizeMismatchError(InvalidInputError):
    code = "size_mismatch"
    default_message = _("The file's size does not match the one declared.")


class TypeMismatchError(InvalidInputError):
    code = "type_mismatch"
    default_message = _("The file's content does not match the declared content type.")


class UploadMissingError(ConflictError):
    code = "upload_missing"
    default_message = _("Nothing has been uploaded for this file yet.")


class UploadNotPendingError(ConflictError):
    code = "upload_not_pending"
    default_message = _("This file is not waiting for an upload.")


class UploadExpiredError(ApplicationError):
    status_code = 410
    code = "upload_expired"
    default_message = _("The upload window for this file has closed. Start a new upload.")


class FileRejectedError(ConflictError):
    code = "file_rejected"
    default_message = _("This file was rejected.")


class InvalidPurposeError(InvalidInputError):
    code = "invalid_purpose"
    default_message = _("Clients cannot upload files for this purpose.")


class InvalidVisibilityError(InvalidInputError):
    code = "invalid_visibility"
    default_message = _("This purpose does not allow that visibility.")


class FilePurposeMismatchError(InvalidInputError):
    code = "file_purpose_mismatch"
    default_message = _("This file was uploaded for another purpose.")


class FileNotAttachableError(ConflictError):
    code = "file_not_attachable"
    default_message = _("This file cannot be attached (it is rejected or not uploaded yet).")


class StorageUnavailableError(ApplicationError):
    status_code = 503
    code = "storage_unavailable"
    default_message = _("File storage is unavailable. Try again shortly.")


class LinkInvalidError(ApplicationError):
    """A signed download or upload link that is forged, altered or expired."""

    status_code = 403
    code = "link_invalid"
    default_message = _("This link is invalid or has expired.")
