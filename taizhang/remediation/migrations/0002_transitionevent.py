# The workflow's events move from the ledger to remediation, which takes the steps. The table
# stays where it is (db_table "ledger_transitionevent"): only Django's idea of who owns it
# changes, so no row is copied and none can be lost. ledger 0005 drops it from the ledger's state.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

STATES = [('registered', 'registered'), ('verified', 'verified'), ('plan_approved', 'plan approved'),
          ('in_remediation', 'in remediation'), ('completion_reported', 'completion reported'),
          ('closed', 'closed'), ('rebound', 'rebound'), ('on_hold', 'on hold')]


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0004_demo_database_mark'),
        ('remediation', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='TransitionEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name='ID')),
                        ('from_state', models.CharField(choices=STATES, max_length=24, verbose_name='from')),
                        ('to_state', models.CharField(choices=STATES, max_length=24, verbose_name='to')),
                        ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='time')),
                        ('comment', models.TextField(blank=True, verbose_name='comment')),
                        ('actor', models.ForeignKey(blank=True, null=True,
                                                    on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                                    to=settings.AUTH_USER_MODEL, verbose_name='by')),
                        ('target', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                     related_name='transitions', to='ledger.target')),
                    ],
                    options={
                        'verbose_name': 'transition',
                        'db_table': 'ledger_transitionevent',
                        'ordering': ['target', 'at', 'id'],
                        'indexes': [models.Index(fields=['to_state', 'at'], name='transition_to_state_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
