"""CallKeeper REST API call statuses: the streams that select by status, and the status pairs decoded
from the document's table."""

from integration_tests.callkeeper.helpers import ck_config, params_of
from source_calltracking.components.callkeeper_statuses import STATUSES, decode
from testkit.connector import records_by_stream, run_read
from testkit.emulator.callkeeper import STATUS_PAIRS

CALL_STREAMS = ["callkeeper_calls", "callkeeper_completed_calls", "callkeeper_calls_by_status"]


def test_completed_and_by_status_streams_hold_what_their_methods_select(emulator):
    output = run_read(ck_config(emulator, statuses=["200/200", "200/487", "811/0"], window_days=31), CALL_STREAMS)
    got = records_by_stream(output)
    pairs = lambda stream: {(int(r["status_code"]), int(r["status2_code"])) for r in got[stream]}  # noqa: E731
    assert pairs("callkeeper_calls") == set(STATUS_PAIRS)
    assert pairs("callkeeper_completed_calls") == set(STATUS_PAIRS) - {(1, 0), (2, 0)}
    assert pairs("callkeeper_calls_by_status") == {(200, 200), (200, 487), (811, 0)}
    requests = emulator.requests_to("callkeeper", "/getCallsByStatus")
    assert {params_of(r)["statuses"] for r in requests} == {"200/200,200/487,811/0"}
    assert not any("statuses" in params_of(r) for r in emulator.requests_to("callkeeper") if r.path != "/getCallsByStatus")


def test_status_pairs_are_decoded_from_the_documents_table(emulator):
    output = run_read(ck_config(emulator, window_days=31), ["callkeeper_calls"])
    calls = records_by_stream(output)["callkeeper_calls"]
    by_pair = {(int(r["status_code"]), int(r["status2_code"])): r for r in calls}
    success = by_pair[(200, 200)]
    assert (success["status_title"], success["status_description"]) == (
        "Звонок прошел успешно",
        "Успешный звонок. Всё прошло хорошо",
    )
    no_answer = by_pair[(200, 487)]
    assert (no_answer["status_title"], no_answer["status_description"]) == ("Клиент не взял трубку", "Клиент не взял трубку")
    balance = by_pair[(811, 0)]
    assert (balance["status_title"], balance["status_description"]) == ("Недостаточно минут на балансе", "Закончился баланс")
    # A pair the table does not list stays null (the CDK leaves null values out of the record).
    assert by_pair[(999, 0)].get("status_title") is None and by_pair[(999, 0)].get("status_description") is None
    for record in calls:
        assert (record["status_title"], record["status_description"]) == STATUSES.get(
            (int(record["status_code"]), int(record["status2_code"])), (None, None)
        )


def test_the_status_table_is_the_documents_table():
    assert len(STATUSES) == 58
    assert decode(200, 491) == ("Техническая ошибка телефонии", "Ошибка повторного обращения к тому же диалогу")
    assert decode(701, 0) == (
        "Ненужный звонок",
        "Звонок отменен. Происходит при заказе звонка, когда цепочка уже удачно закончена",
    )
    assert decode(502, 0) == ("Технические неполадки оператора связи:", "Технические неполадки на стороне оператора связи")
    assert decode(790, 0) == ("Test call", "Test call")
    assert decode("200", "0") == decode(200, None) == decode(200, "") == decode(200, 0)
    assert decode(200, 999) == decode(None, None) == decode("abc", 0) == (None, None)
