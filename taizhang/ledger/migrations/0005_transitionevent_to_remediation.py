# The workflow's events now belong to remediation (its 0002 takes them over, table and rows
# kept): the ledger forgets the model without touching the database.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0004_demo_database_mark'),
        ('remediation', '0002_transitionevent'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name='transitionevent', name='transition_to_state_idx'),
                migrations.DeleteModel(name='TransitionEvent'),
            ],
            database_operations=[],
        ),
    ]
