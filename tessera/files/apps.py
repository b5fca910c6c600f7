from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FilesConfig(AppConfig):
    name = "tessera.files"
    label = "files"
    verbose_name = _("Files")

    def ready(self) -> None:
        from tessera.core.exports import export_contributor_register
        from tessera.files import images, storage
        from tessera.files.export import account_export

        images.install_decompression_bomb_guard()
        storage.connect_settings_reset()
        export_contributor_register("files", account_export)
