from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "tessera.files"
    label = "files"
    verbose_name = "Files"

    def ready(self) -> None:
        from tessera.files import images, storage

        images.install_decompression_bomb_guard()
        storage.connect_settings_reset()
