import datetime

from django.core.management.base import BaseCommand

from kaohe.demo.builder import DEMO_PASSWORD, advance_demo_to_review, build_demo, demo_accounts
from kaohe.lib import clock


class Command(BaseCommand):
    help = "Load the 2017 round and a demo of 310 synthetic central units (keeps existing data)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--stage", choices=["reports", "reviewed"], default="reports",
            help="reports: mid-December, reports coming in (default); reviewed: late January, "
                 "all categories reviewed and the first result set computed.",
        )

    def handle(self, *args, stage, **options):
        created = build_demo(today=clock.today())
        if created:
            self.stdout.write(self.style.SUCCESS("演示数据已创建 (demo data created)."))
        else:
            self.stdout.write("演示数据已存在，保留现有数据 (demo data exists and was kept).")
        if stage == "reviewed":
            day = max(clock.today(), datetime.date(2018, 1, 20))
            if advance_demo_to_review(today=day):
                self.stdout.write("已推进到综合评议阶段 (advanced to the comprehensive review).")
        self.stdout.write("")
        self.stdout.write(f"演示账户 (demo accounts), 密码 password: {DEMO_PASSWORD}")
        for account in demo_accounts():
            self.stdout.write(f"  {account.username:<28} {account.role_label}  {account.scope}")
