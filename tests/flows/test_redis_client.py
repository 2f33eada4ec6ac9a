"""ThreadConnections: each thread's commands on a connection of its own, given back
when the thread ends, never shared with a forked child."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
import redis

from flows.redis_client import make_redis


def in_thread(call):
    out = []
    thread = threading.Thread(target=lambda: out.append(call()))
    thread.start()
    thread.join(10)
    return out[0]


def test_a_thread_keeps_its_connection_and_threads_do_not_share_one(redis_url):
    client = make_redis(redis_url)
    mine = client.client_id()
    assert client.client_id() == mine
    other = in_thread(client.client_id)
    assert other != mine
    assert client.client_id() == mine


def test_connections_of_finished_threads_are_reused(redis_url):
    client = make_redis(redis_url)
    before = client.info("clients")["connected_clients"]  # other tests' clients too
    for n in range(40):
        in_thread(lambda n=n: client.set(f"k{n}", n))
    assert client.get("k39") == b"39"
    # each finished thread's connection went back and was lent to the next thread
    assert client.info("clients")["connected_clients"] <= before + 1


def test_scripts_and_pipelines_work_as_on_a_plain_client(redis_url):
    client = make_redis(redis_url)
    script = client.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert script(keys=["n"], args=[2]) == 2
    assert in_thread(lambda: script(keys=["n"], args=[3])) == 5
    with client.pipeline() as pipe:
        assert pipe.incr("n").get("n").execute() == [6, b"6"]


def _child_id(client, out) -> None:
    out.send(client.client_id())


def test_a_forked_child_opens_its_own_connection(redis_url):
    client = make_redis(redis_url)
    mine = client.client_id()
    here, there = multiprocessing.get_context("fork").Pipe()
    child = multiprocessing.get_context("fork").Process(target=_child_id, args=(client, there))
    child.start()
    assert here.poll(10)
    assert here.recv() != mine
    child.join(10)
    assert client.client_id() == mine  # the parent's connection is untouched


def test_a_connection_the_server_closed_is_replaced_before_the_next_command(redis_url):
    """After a Redis restart (or an idle client dropped by the server) a thread's
    held connection is dead: its next command must still succeed."""
    client = make_redis(redis_url)
    client.stale_check_after = 0  # as if the connection had been idle a while
    mine = client.client_id()
    killer = make_redis(redis_url)
    assert in_thread(lambda: killer.client_kill_filter(_id=mine)) == 1
    assert client.set("after", "kill")  # no ConnectionError
    assert client.client_id() != mine


def test_commands_sent_together_are_one_write_and_their_replies_come_back_in_order(redis_url):
    client = make_redis(redis_url)
    try:
        client.delete("together:k", "together:empty")
        connection = client._thread_client().connection
        writes: list[bytes] = []
        send = connection.send_packed_command

        def counting(command, check_health=True):  # noqa: ANN001, ANN202
            writes.append(command)
            return send(command, check_health)

        connection.send_packed_command = counting
        replies = client.send_together(("SET", "together:k", "v"),
                                       ("HSET", "together:k", "f", "1"),  # wrong type
                                       ("BLPOP", "together:empty", 0.1),  # blocks, then nil
                                       ("GET", "together:k"))
        assert len(writes) == 1
        assert replies[0] == b"OK"
        assert isinstance(replies[1], redis.ResponseError) and "WRONGTYPE" in str(replies[1])
        assert replies[2:] == [None, b"v"]
        assert client.get("together:k") == b"v"  # the connection is still in step
    finally:
        client.close()


@pytest.fixture
def client(redis_url):
    made = make_redis(redis_url)
    yield made
    made.close()


def test_evalsha_goes_out_sent_together_with_the_scripts_reply(client):
    client.delete("evalsha:n")
    sent: list[tuple] = []
    together = client.send_together

    def recording(*commands):  # noqa: ANN002, ANN202
        sent.extend(commands)
        return together(*commands)

    client.send_together = recording
    script = client.register_script("return {redis.call('incrby', KEYS[1], ARGV[1]), 'x'}")
    assert script(keys=["evalsha:n"], args=[4]) == [4, b"x"]
    assert sent[-1] == ("EVALSHA", script.sha, 1, "evalsha:n", 4)


def test_evalsha_raises_error_replies_and_stays_in_step(client):
    client.set("evalsha:s", "text")
    failing = client.register_script("return redis.call('incr', KEYS[1])")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        failing(keys=["evalsha:s"])
    with pytest.raises(redis.exceptions.NoScriptError):
        client.evalsha("0" * 40, 0)
    assert client.get("evalsha:s") == b"text"  # the connection is still in step


def test_a_script_the_server_forgot_is_loaded_again(client):
    script = client.register_script("return ARGV[1] + 1")
    assert script(args=[1]) == 2
    client.script_flush()
    assert script(args=[2]) == 3  # NOSCRIPT raised, redis-py's Script loads it
