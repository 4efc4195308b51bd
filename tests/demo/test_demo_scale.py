"""`kaohe demo --units N`: a scaled demo for the query-count and load benchmarks."""

import datetime
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count

from kaohe.demo.builder import CATEGORY_SIZES, _unit_names, build_demo, category_sizes
from kaohe.directory.models import Pairing, Unit


def test_the_default_sizes_are_the_2017_ones():
    assert category_sizes() == CATEGORY_SIZES == category_sizes(310)


@pytest.mark.parametrize("units", [40, 311, 999, 3100])
def test_scaled_sizes_keep_the_shares_and_the_army_units(units):
    sizes = category_sizes(units)
    assert sum(n for code, n in sizes.items() if code != "military") == units
    assert sizes["military"] == CATEGORY_SIZES["military"]
    for code, n in CATEGORY_SIZES.items():
        if code != "military":
            assert n * units / 310 - 1 < sizes[code] < n * units / 310 + 1
            assert sizes[code] >= 1


def test_names_stay_unique_beyond_what_stems_and_kinds_make():
    names = _unit_names(random.Random(1), "universities", 1200)
    assert len(set(names)) == 1200 and all(name.startswith("示例") for name in names)


@pytest.mark.django_db
def test_a_demo_with_more_units_than_counties_pairs_every_unit():
    build_demo(today=datetime.date(2017, 11, 20), units=620)
    assert Unit.objects.filter(category__ranked=True).count() == 620
    assert Unit.objects.count() == 626
    per_unit = Unit.objects.annotate(n=Count("pairings")).values_list("n", flat=True)
    assert min(per_unit) == 1
    # 626 units, 592 counties: some counties now have two units.
    assert Pairing.objects.values("county").distinct().count() == 592
    assert Pairing.objects.count() == 626


@pytest.mark.django_db
def test_the_command_refuses_too_few_units():
    with pytest.raises(CommandError, match="40"):
        call_command("demo", "--units", "12")
    assert not Unit.objects.exists()
