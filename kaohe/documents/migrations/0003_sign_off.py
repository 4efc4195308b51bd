import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0002_export_lease"),
        ("rounds", "0004_plan_words"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='DocumentCopy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('identifier', models.CharField(max_length=50)),
                ('object_key', models.CharField(max_length=50)),
                ('number', models.PositiveIntegerField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('export', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='copies', to='documents.export')),
            ],
            options={
                'ordering': ['identifier', 'object_key', 'number'],
                'constraints': [models.UniqueConstraint(fields=('identifier', 'object_key', 'number'), name='documents_copy_number')],
            },
        ),
        migrations.CreateModel(
            name='NumberSequence',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField(verbose_name='年份')),
                ('kind', models.CharField(choices=[('notice', '通知'), ('circular', '通报'), ('letter', '函'), ('report', '报告')], max_length=20, verbose_name='文种')),
                ('prefix', models.CharField(max_length=30, verbose_name='机关代字')),
                ('next_number', models.PositiveIntegerField(default=1, verbose_name='下一个序号')),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': '发文字号',
                'ordering': ['-year', 'kind'],
                'constraints': [models.UniqueConstraint(fields=('year', 'kind'), name='documents_sequence_year_kind')],
            },
        ),
        migrations.CreateModel(
            name='SignOff',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('identifier', models.CharField(max_length=50)),
                ('object_key', models.CharField(max_length=50)),
                ('title', models.CharField(max_length=300, verbose_name='文书')),
                ('kind', models.CharField(choices=[('notice', '通知'), ('circular', '通报'), ('letter', '函'), ('report', '报告')], max_length=20, verbose_name='文种')),
                ('year', models.PositiveSmallIntegerField()),
                ('prefix', models.CharField(max_length=30)),
                ('number', models.PositiveIntegerField()),
                ('doc_number', models.CharField(max_length=60, verbose_name='发文字号')),
                ('issued_on', models.DateField(verbose_name='成文日期')),
                ('signer', models.CharField(blank=True, max_length=50, verbose_name='签发人')),
                ('content', models.JSONField()),
                ('sha256', models.CharField(max_length=64)),
                ('signed_at', models.DateTimeField(auto_now_add=True)),
                ('round', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='rounds.round')),
                ('signed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': '签发',
                'ordering': ['-signed_at', '-pk'],
                'constraints': [models.UniqueConstraint(fields=('identifier', 'object_key'), name='documents_signoff_once'), models.UniqueConstraint(fields=('year', 'prefix', 'number'), name='documents_signoff_number')],
            },
        ),
    ]
