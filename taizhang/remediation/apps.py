from django.apps import AppConfig


class RemediationConfig(AppConfig):
    name = "taizhang.remediation"
    label = "remediation"
