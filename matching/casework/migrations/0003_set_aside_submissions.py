# Set-aside rows keep both records' submission ids, and that of the record that set each aside.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('casework', '0002_set_aside'),
    ]

    operations = [
        migrations.AddField(
            model_name='setaside',
            name='left_submission_id',
            field=models.CharField(default='', max_length=200),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='setaside',
            name='right_submission_id',
            field=models.CharField(default='', max_length=200),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='setaside',
            name='also_linked_right_submission_id',
            field=models.CharField(blank=True, default='', max_length=200),
        ),
    ]
