from django.apps import AppConfig


class CommandConfig(AppConfig):
    """指挥调度: progress against the pledges, forecasts and early warnings, the dashboard and the map."""

    name = "taizhang.command"
    label = "command"
    verbose_name = "指挥调度"
