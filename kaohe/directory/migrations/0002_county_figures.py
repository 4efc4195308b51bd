import django.db.models.deletion
from django.db import migrations, models


def _liaison_fields(model_name):
    return [
        migrations.AddField(
            model_name=model_name, name="liaison_name",
            field=models.CharField(blank=True, max_length=50, verbose_name="联络员姓名")),
        migrations.AddField(
            model_name=model_name, name="liaison_phone",
            field=models.CharField(blank=True, max_length=40, verbose_name="联络员电话")),
        migrations.AddField(
            model_name=model_name, name="liaison_email",
            field=models.EmailField(blank=True, max_length=254, verbose_name="联络员电子邮箱")),
    ]


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]

    operations = [
        *_liaison_fields("unit"),
        *_liaison_fields("province"),
        migrations.CreateModel(
            name="CountyFigure",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("year", models.PositiveSmallIntegerField(verbose_name="年度")),
                ("planned_exit", models.PositiveIntegerField(blank=True, null=True,
                                                             verbose_name="计划脱贫人口")),
                ("actual_exit", models.PositiveIntegerField(blank=True, null=True,
                                                            verbose_name="实际脱贫人口")),
                ("exited", models.BooleanField(blank=True, null=True, verbose_name="当年摘帽")),
                ("poverty_incidence", models.DecimalField(
                    blank=True, decimal_places=2, max_digits=5, null=True,
                    verbose_name="贫困发生率（%）")),
                ("source_file", models.CharField(blank=True, max_length=200,
                                                 verbose_name="来源文件")),
                ("imported_by", models.CharField(blank=True, max_length=150,
                                                 verbose_name="导入人")),
                ("imported_at", models.DateTimeField(verbose_name="导入时间")),
                ("county", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                             related_name="figures", to="directory.county")),
            ],
            options={
                "verbose_name": "全国扶贫开发信息系统县级数据",
                "ordering": ["county__code", "year"],
                "constraints": [models.UniqueConstraint(fields=("county", "year"),
                                                        name="county_figure_unique")],
            },
        ),
    ]
