"""Delivery methods: config defaults, recipients, stores, parcels and collection."""

from __future__ import annotations

import pydantic
import pytest

from commerce.delivery import (
    SANDBOX_STORES,
    Chain,
    DeliveryKind,
    DeliveryMethod,
    PickupStore,
    check_cod,
    check_parcel,
    cod_available,
    find_store,
    is_home_delivery,
    is_store_pickup,
    pickup_store,
)
from commerce.errors import NotFound, ValidationError
from commerce.recipients import normalize_mobile, validate_cvs_name, validate_recipient


def method(kind: str, **extra: object) -> DeliveryMethod:
    fields: dict[str, object] = {"code": kind.replace("_", "-"), "kind": kind, "name": kind}
    fields.setdefault("fee", 60)
    fields.update(extra)
    return DeliveryMethod(**fields)


SEVEN = method("cvs_711_c2c", cod_allowed=True)
FAMILY_B2C = method("cvs_family_b2c")
HCT = method("hct_home", cod_allowed=True)
TCAT = method("tcat_home")
XB_HOME = method(
    "xb_711_home",
    destinations=[{"code": "JP"}, {"code": "HK"}, {"code": "SG", "latin_only": True}],
)
XB_PICKUP = method("xb_711_pickup")
STORE_711 = find_store(Chain.SEVEN_ELEVEN, "131386")


@pytest.mark.parametrize(
    ("kind", "cod_max", "sum_cm", "longest_cm", "weight_g"),
    [
        ("cvs_711_c2c", 20000, 105, 45, 5000),
        ("cvs_711_b2c", 20000, 105, 45, 5000),
        ("cvs_family_c2c", 20000, 105, 45, 5000),
        ("cvs_family_b2c", 20000, 120, 50, 10000),
        ("hct_home", 100000, None, None, 20000),
        ("tcat_home", None, 150, None, 20000),
        ("custom", None, None, None, None),
    ],
)
def test_limits_default_per_kind(kind, cod_max, sum_cm, longest_cm, weight_g):
    m = method(kind)
    assert m.cod_max == cod_max
    assert (m.parcel.max_sum_cm, m.parcel.max_longest_cm, m.parcel.max_weight_g) == (
        sum_cm,
        longest_cm,
        weight_g,
    )


def test_config_overrides_one_limit_and_keeps_the_others():
    m = method("cvs_711_c2c", cod_max=10000, parcel={"max_weight_g": 3000})
    assert m.cod_max == 10000
    assert (m.parcel.max_sum_cm, m.parcel.max_weight_g) == (105, 3000)


@pytest.mark.parametrize(
    "fields",
    [
        {"code": "x", "kind": "hct_home", "name": "x", "fee": 60, "colour": "red"},
        {"code": "X Y", "kind": "hct_home", "name": "x", "fee": 60},
        {"code": "x", "kind": "drone", "name": "x", "fee": 60},
        {"code": "x", "kind": "hct_home", "name": "x", "fee": -1},
        {"code": "x", "kind": "xb_711_home", "name": "x", "fee": 300},
    ],
    ids=["unknown key", "bad code", "bad kind", "negative fee", "cross-border without places"],
)
def test_bad_config_is_refused(fields):
    with pytest.raises(pydantic.ValidationError):
        DeliveryMethod(**fields)


@pytest.mark.parametrize(("amount", "fee"), [(0, 60), (1499, 60), (1500, 0), (9999, 0)], ids=str)
def test_fee_is_waived_from_the_threshold(amount, fee):
    assert method("cvs_711_c2c", free_over=1500).fee_for(amount) == fee


def test_fee_without_threshold_is_always_charged():
    assert method("hct_home", fee=120).fee_for(10**6) == 120


@pytest.mark.parametrize(
    ("m", "pickup", "home"),
    [
        (SEVEN, True, False),
        (FAMILY_B2C, True, False),
        (HCT, False, True),
        (TCAT, False, True),
        (XB_PICKUP, True, False),
        (XB_HOME, False, True),
        (method("custom"), False, False),
    ],
)
def test_pickup_and_home_kinds(m, pickup, home):
    assert (is_store_pickup(m), is_home_delivery(m)) == (pickup, home)


def test_cross_border_pickup_defaults_to_the_four_store_countries():
    assert [d.code for d in XB_PICKUP.destinations] == ["HK", "MO", "SG", "MY"]


@pytest.mark.parametrize(("code", "latin_only"), [("JP", True), ("HK", False), ("SG", True)])
def test_latin_only_defaults_follow_the_issue_and_can_be_overridden(code, latin_only):
    assert XB_HOME.destination(code).latin_only is latin_only


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912345678", "0912345678"),
        ("0912-345-678", "0912345678"),
        ("+886 912 345 678", "0912345678"),
        ("+886-0912345678", "0912345678"),
        ("０９１２３４５６７８", "0912345678"),
    ],
)
def test_mobile_is_normalised(raw, expected):
    assert normalize_mobile(raw) == expected


@pytest.mark.parametrize("raw", ["0212345678", "091234567", "09123456789", "+1 912345678", ""])
def test_bad_mobile_is_refused(raw):
    with pytest.raises(ValidationError) as err:
        normalize_mobile(raw)
    assert err.value.field == "phone"


@pytest.mark.parametrize("name", ["王明", "王小明", "歐陽小明明", "John", "JohnSmith", "王John"])
def test_cvs_name_accepted(name):
    assert validate_cvs_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("王", "2–5 個中文字"),
        ("歐陽小明明明", "2–5 個中文字"),
        ("Joe", "4–10 個英文字母"),
        ("Johnathan Smith", "空白"),
        ("JohnathanSmith", "4–10 個英文字母"),
        ("王小明2", "數字"),
        ("王_小明", "_"),
        ("O'Neil", "'"),
        ("王。明", "只能使用中文或英文字母"),
    ],
)
def test_cvs_name_refused_with_the_rule(name, reason):
    with pytest.raises(ValidationError, match=reason) as err:
        validate_cvs_name(name)
    assert err.value.field == "name"


def test_full_width_latin_name_is_normalised():
    assert validate_cvs_name("Ｊｏｈｎ") == "John"


def test_store_pickup_recipient_needs_a_store_of_the_same_chain():
    with pytest.raises(ValidationError, match="取貨門市"):
        validate_recipient(SEVEN, "王小明", "0912345678")
    family_store = find_store(Chain.FAMILYMART, "006598")
    with pytest.raises(ValidationError, match="不屬於"):
        validate_recipient(SEVEN, "王小明", "0912345678", store=family_store)
    got = validate_recipient(SEVEN, " 王小明 ", "0912 345 678", store=STORE_711)
    assert (got.name, got.phone, got.store, got.address) == (
        "王小明",
        "0912345678",
        STORE_711,
        None,
    )


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("台北市信義", False),
        ("台北市信義路", True),
        ("台" * 60, True),
        ("台" * 61, False),
        (None, False),
    ],
)
def test_home_address_length(address, ok):
    if ok:
        assert validate_recipient(HCT, "王小明", "0912345678", address=address).address == address
    else:
        with pytest.raises(ValidationError, match="6–60"):
            validate_recipient(HCT, "王小明", "0912345678", address=address)


def test_domestic_method_refuses_a_foreign_destination():
    with pytest.raises(ValidationError, match="只寄送台灣"):
        validate_recipient(
            HCT, "王小明", "0912345678", address="台北市信義路一段", destination="JP"
        )


def test_cross_border_destination_must_be_listed():
    with pytest.raises(ValidationError, match="JP, HK, SG") as err:
        validate_recipient(
            XB_HOME, "Taro", "+81312345678", address="1-1 Chiyoda 100-0001", destination="US"
        )
    assert err.value.field == "destination"


def test_latin_only_destination_requires_a_romanised_name():
    with pytest.raises(ValidationError, match="英文") as err:
        validate_recipient(
            XB_HOME,
            "山田太郎",
            "+81312345678",
            address="1-1 Chiyoda, Tokyo 100-0001",
            destination="JP",
        )
    assert err.value.field == "name"


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("東京都千代田区1-1 100-0001", "英文"),
        ("Chiyoda Tokyo", "郵遞區號"),
    ],
)
def test_latin_only_destination_requires_a_latin_address_with_postcode(address, message):
    with pytest.raises(ValidationError, match=message) as err:
        validate_recipient(
            XB_HOME, "Taro Yamada", "+81312345678", address=address, destination="jp"
        )
    assert err.value.field == "address"


def test_latin_only_destination_accepts_a_romanised_recipient():
    got = validate_recipient(
        XB_HOME,
        " Taro  Yamada ",
        "+81 3-1234-5678",
        address="1-1 Chiyoda, Tokyo 100-0001",
        destination="JP",
    )
    assert (got.name, got.phone, got.destination) == ("Taro Yamada", "+81312345678", "JP")


def test_hong_kong_by_default_accepts_chinese_and_needs_no_postcode():
    got = validate_recipient(
        XB_HOME, "陳大文", "+852 9123 4567", address="香港中環皇后大道中1號", destination="HK"
    )
    assert got.address == "香港中環皇后大道中1號"


def test_singapore_set_to_latin_only_refuses_chinese():
    with pytest.raises(ValidationError, match="英文"):
        validate_recipient(
            XB_HOME, "陳大文", "+65 9123 4567", address="1 Raffles Place 048616", destination="SG"
        )


def test_cross_border_pickup_store_must_be_in_the_destination():
    hk_store = PickupStore(
        chain=Chain.SEVEN_ELEVEN, store_id="HK1234", name="中環店", address="香港中環", country="HK"
    )
    got = validate_recipient(XB_PICKUP, "陳大文", "+85291234567", destination="HK", store=hk_store)
    assert got.store == hk_store
    with pytest.raises(ValidationError, match="不屬於"):
        validate_recipient(XB_PICKUP, "陳大文", "+85291234567", destination="HK", store=STORE_711)


@pytest.mark.parametrize(
    ("chain", "store_id", "ok"),
    [
        ("711", "131386", True),
        ("711", "13138", False),
        ("711", "F13138", False),
        ("family", "006598", True),
        ("family", "F006598", True),
        ("family", "1328", False),
        ("family", "G006598", False),
    ],
)
def test_store_id_checked_per_chain(chain, store_id, ok):
    fields = {"chain": chain, "store_id": store_id, "name": "店", "address": "台北市"}
    if ok:
        assert pickup_store(**fields).store_id == store_id
    else:
        with pytest.raises(ValidationError, match="門市代號") as err:
            pickup_store(**fields)
        assert err.value.field == "store_id"


def test_sandbox_stores_cover_both_chains_and_an_outlying_island():
    assert {chain for chain, stores in SANDBOX_STORES.items() if stores} == set(Chain)
    assert any(s.outlying for s in SANDBOX_STORES[Chain.SEVEN_ELEVEN])
    assert find_store("family", "006598").name
    with pytest.raises(NotFound):
        find_store("711", "000000")


@pytest.mark.parametrize(
    ("m", "dims", "weight", "message"),
    [
        (SEVEN, (45, 30, 30), 5000, None),
        (SEVEN, (45, 30, 31), 1000, "105 公分"),
        (SEVEN, (46, 20, 20), 1000, "最長邊"),
        (SEVEN, (30, 30, 30), 5001, "5 公斤"),
        (FAMILY_B2C, (50, 40, 30), 10000, None),
        (FAMILY_B2C, (50, 40, 31), 1000, "120 公分"),
        (HCT, (150, 100, 100), 20001, "20 公斤"),
        (TCAT, (60, 50, 40), 20000, None),
        (method("custom"), (500, 500, 500), 10**6, None),
    ],
)
def test_parcel_limits(m, dims, weight, message):
    if message is None:
        check_parcel(m, *dims, weight)
    else:
        with pytest.raises(ValidationError, match=message) as err:
            check_parcel(m, *dims, weight)
        assert err.value.field == "parcel"


@pytest.mark.parametrize(
    ("m", "amount", "message"),
    [
        (SEVEN, 20000, None),
        (SEVEN, 20001, "NT\\$20,000"),
        (SEVEN, 0, "沒有需要代收"),
        (HCT, 100000, None),
        (HCT, 100001, "100,000"),
        (TCAT, 100, "不提供代收"),
    ],
)
def test_cash_collection_limits(m, amount, message):
    assert cod_available(m, amount) is (message is None)
    if message is None:
        check_cod(m, amount)
    else:
        with pytest.raises(ValidationError, match=message):
            check_cod(m, amount)


def test_delivery_kind_values_are_the_config_spelling():
    assert DeliveryKind("xb_711_pickup") is DeliveryKind.XB_711_PICKUP
