"""Match.not_found_by: the later run that looked for an open match's pair and did not find it
(a record corrected since, a claim ended), so investigators see it before acting on it."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('casework', '0007_record_text'),
    ]

    operations = [
        migrations.AddField(
            model_name='match',
            name='not_found_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='casework.run'),
        ),
    ]
