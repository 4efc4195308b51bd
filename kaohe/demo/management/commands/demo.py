import datetime

from django.core.management.base import BaseCommand, CommandError

from kaohe.demo.builder import (
    DEMO_PASSWORD,
    RANKED_UNITS,
    advance_demo_to_release,
    advance_demo_to_review,
    build_demo,
    demo_accounts,
)
from kaohe.lib import clock


class Command(BaseCommand):
    help = "Load the 2017 round and a demo of 310 synthetic central units (keeps existing data)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--stage", choices=["reports", "reviewed", "released"], default="reports",
            help="reports: mid-December, reports coming in (default); reviewed: late January, "
                 "all categories reviewed and the first result set computed; released: "
                 "late February (KAOHE_TODAY=2018-02-20), the results decided, approved, "
                 "signed off and released, so that every document can be made.",
        )
        parser.add_argument(
            "--units", type=int, default=RANKED_UNITS,
            help=f"ranked units to create (default {RANKED_UNITS}; at least 40, so that every "
                 "category has some); for benchmarks at a larger scale. Only a new demo.",
        )

    def handle(self, *args, stage, units, **options):
        if units < 40:
            raise CommandError("--units 至少为 40 (at least 40, so that every category has units)")
        created = build_demo(today=clock.today(), units=units)
        if created:
            self.stdout.write(self.style.SUCCESS("演示数据已创建 (demo data created)."))
        else:
            self.stdout.write("演示数据已存在，保留现有数据 (demo data exists and was kept).")
        if stage == "released":
            day = max(clock.today(), datetime.date(2018, 2, 1))
            if advance_demo_to_release(today=day):
                self.stdout.write("已推进到结果反馈阶段：等次已审定，文书已签发，结果已反馈 "
                                  "(advanced to the feedback: approved, signed off, released).")
        if stage == "reviewed":
            day = max(clock.today(), datetime.date(2018, 1, 20))
            if advance_demo_to_review(today=day):
                self.stdout.write("已推进到综合评议阶段 (advanced to the comprehensive review).")
        self.stdout.write("")
        self.stdout.write(f"演示账户 (demo accounts), 密码 password: {DEMO_PASSWORD}")
        for account in demo_accounts():
            self.stdout.write(f"  {account.username:<28} {account.role_label}  {account.scope}")
