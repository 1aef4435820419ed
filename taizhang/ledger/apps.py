from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "taizhang.ledger"
    label = "ledger"

    def ready(self):
        from taizhang.campaigns.presets import preset_after_load

        from .history import register
        from .priorities import priorities_after_preset_load

        register()
        preset_after_load(priorities_after_preset_load)
