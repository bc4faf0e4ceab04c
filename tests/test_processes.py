"""Exit, fork, threads and gevent, each in a fresh interpreter."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator

import pytest

from cio_pipeline import Client, LocalTrackAPI

SITE_ID = "process-site"
API_KEY = "process-key-0d5e"

# Every script starts like this; SERVER_URL comes from the environment.
PRELUDE = """
import logging, os, sys, time
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
URL = os.environ["SERVER_URL"]
"""


@pytest.fixture
def server() -> Iterator[LocalTrackAPI]:
    with LocalTrackAPI(SITE_ID, API_KEY) as running:
        yield running


def run_script(
    server: LocalTrackAPI,
    *parts: str,
    prelude: str = PRELUDE,
    timeout: float = 30,
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run the script ``parts`` in a new interpreter.

    Returns the completed process and the seconds it took.
    """
    script = "\n".join(textwrap.dedent(part) for part in (prelude, *parts))
    environment = dict(os.environ, SERVER_URL=server.url)
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        check=False,
    )
    return completed, time.monotonic() - started


CLIENT = f"""
from cio_pipeline import Client
client = Client({SITE_ID!r}, {API_KEY!r}, url=URL, flush_interval=60)
"""


def test_exit_delivers_without_flush(server: LocalTrackAPI) -> None:
    completed, _ = run_script(
        server,
        CLIENT,
        """
        for number in range(500):
            client.track("u1", "tick", {"n": number})
        """,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert len(server.events("u1")) == 500


def test_sys_exit_delivers(server: LocalTrackAPI) -> None:
    completed, _ = run_script(
        server,
        CLIENT,
        """
        client.track("u1", "before_exit")
        sys.exit(3)
        """,
    )
    assert completed.returncode == 3
    assert [event["name"] for event in server.events("u1")] == ["before_exit"]


def test_exit_with_dead_api_is_bounded(server: LocalTrackAPI) -> None:
    server.faults.fail(503)
    completed, elapsed = run_script(
        server,
        f"""
        from cio_pipeline import Client
        client = Client({SITE_ID!r}, {API_KEY!r}, url=URL,
                        shutdown_timeout=1.0, flush_interval=60)
        for number in range(1000):
            client.track("u1", "tick", {{"n": number}})
        """,
    )
    assert completed.returncode == 0
    assert elapsed < 5
    assert "Traceback" not in completed.stderr
    assert "1000 records were not delivered before exit" in completed.stderr


def test_exit_after_shutdown_is_quiet(server: LocalTrackAPI) -> None:
    completed, _ = run_script(
        server,
        CLIENT,
        """
        client.track("u1", "x")
        print(client.shutdown(timeout=5).delivered)
        """,
    )
    assert completed.returncode == 0
    assert completed.stdout.strip() == "1"
    assert completed.stderr == ""
    assert len(server.events("u1")) == 1


def test_record_queued_in_later_atexit_handler(server: LocalTrackAPI) -> None:
    # Registered after the import, so it runs before the library's hook.
    completed, _ = run_script(
        server,
        CLIENT,
        """
        import atexit
        atexit.register(lambda: client.track("u1", "from_atexit"))
        """,
    )
    assert completed.returncode == 0, completed.stderr
    assert [e["name"] for e in server.events("u1")] == ["from_atexit"]


def test_first_record_in_earlier_atexit_handler(
    server: LocalTrackAPI,
) -> None:
    # Registered before the import, so it runs after the library's hook,
    # and the client's first record is queued there.
    completed, _ = run_script(
        server,
        """
        import atexit

        def last_words():
            client.track("u1", "last_words")

        atexit.register(last_words)
        """,
        CLIENT,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    assert [e["name"] for e in server.events("u1")] == ["last_words"]


def test_flush_thread_never_keeps_process_alive(
    server: LocalTrackAPI,
) -> None:
    server.faults.hang()
    completed, elapsed = run_script(
        server,
        f"""
        from cio_pipeline import Client
        client = Client({SITE_ID!r}, {API_KEY!r}, url=URL, atexit=False,
                        flush_interval=0.01)
        client.track("u1", "x")
        time.sleep(0.3)
        """,
    )
    server.faults.clear()
    assert completed.returncode == 0
    assert elapsed < 10


def test_fork_child_gets_fresh_client(server: LocalTrackAPI) -> None:
    completed, _ = run_script(
        server,
        CLIENT,
        """
        for number in range(10):
            client.track("parent", "queued_before_fork")
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                stats = client.stats()
                assert stats.enqueued == 0, stats
                assert stats.pending == 0, stats
                for number in range(5):
                    client.track("child", "from_child")
                result = client.flush(timeout=10)
                assert result.delivered == 5, result
            except BaseException as error:
                print("child failed:", repr(error), file=sys.stderr)
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        print(client.flush(timeout=10).delivered)
        """,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "10"
    assert len(server.events("parent")) == 10
    assert len(server.events("child")) == 5


def test_fork_while_lock_held_does_not_hang(server: LocalTrackAPI) -> None:
    completed, _ = run_script(
        server,
        CLIENT,
        """
        import threading
        held = threading.Event()
        release = threading.Event()

        def hold_lock():
            with client._worker._lock:
                held.set()
                release.wait(5)

        threading.Thread(target=hold_lock, daemon=True).start()
        held.wait(5)
        pid = os.fork()
        if pid == 0:
            client.track("child", "x")
            ok = client.flush(timeout=5).delivered == 1
            os._exit(0 if ok else 1)
        release.set()
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
        """,
    )
    assert completed.returncode == 0, completed.stderr
    assert len(server.events("child")) == 1


def test_multiprocessing_fork_pool(server: LocalTrackAPI) -> None:
    completed, _ = run_script(
        server,
        CLIENT,
        """
        import multiprocessing

        def work(number):
            client.track("worker", "pooled", {"n": number})
            return client.flush(timeout=10).delivered

        client.track("parent", "before_pool")
        context = multiprocessing.get_context("fork")
        with context.Pool(2) as pool:
            delivered = pool.map(work, range(20))
        print(sum(delivered))
        """,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "20"
    assert len(server.events("worker")) == 20
    assert len(server.events("parent")) == 1


def test_gevent_monkey_patching(server: LocalTrackAPI) -> None:
    pytest.importorskip("gevent")
    completed, _ = run_script(
        server,
        CLIENT,
        """
        for number in range(300):
            client.track("u1", "green", {"n": number})
        print(client.flush(timeout=10).delivered)
        """,
        prelude="from gevent import monkey\nmonkey.patch_all()\n" + PRELUDE,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "300"
    assert len(server.events("u1")) == 300


def flush_threads() -> list[threading.Thread]:
    return [
        thread
        for thread in threading.enumerate()
        if thread.name == "cio_pipeline-flush"
    ]


def wait_for_no_flush_threads(seconds: float) -> list[threading.Thread]:
    deadline = time.monotonic() + seconds
    while flush_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    return flush_threads()


def test_many_clients_leak_no_threads(server: LocalTrackAPI) -> None:
    assert wait_for_no_flush_threads(5) == []
    clients = [
        Client(SITE_ID, API_KEY, url=server.url, atexit=False)
        for _ in range(30)
    ]
    for client in clients:
        client.track("u1", "x")
    assert len(flush_threads()) == 30
    for client in clients:
        client.shutdown(timeout=5)
    assert wait_for_no_flush_threads(5) == []
    assert len(server.events("u1")) == 30


def test_collected_client_stops_its_thread(server: LocalTrackAPI) -> None:
    assert wait_for_no_flush_threads(5) == []
    client = Client(SITE_ID, API_KEY, url=server.url, atexit=False)
    client.track("u1", "sent_by_collected_client")
    assert len(flush_threads()) == 1
    del client
    gc.collect()
    assert wait_for_no_flush_threads(5) == []
    assert len(server.events("u1")) == 1


def test_collected_client_delivers_at_exit(server: LocalTrackAPI) -> None:
    completed, _ = run_script(
        server,
        f"""
        from cio_pipeline import Client

        def main():
            client = Client({SITE_ID!r}, {API_KEY!r}, url=URL,
                            flush_interval=60)
            for number in range(50):
                client.track("u1", "from_collected", {{"n": number}})

        main()
        """,
    )
    assert completed.returncode == 0, completed.stderr
    assert len(server.events("u1")) == 50


def test_exit_budget_is_shared_by_many_clients(
    server: LocalTrackAPI,
) -> None:
    server.faults.hang()
    completed, elapsed = run_script(
        server,
        f"""
        from cio_pipeline import Client
        clients = [
            Client({SITE_ID!r}, {API_KEY!r}, url=URL, shutdown_timeout=1.0,
                   flush_interval=0.01, request_timeout=30)
            for _ in range(100)
        ]
        for client in clients:
            client.track("u1", "x")
        time.sleep(0.2)
        """,
    )
    server.faults.clear()
    assert completed.returncode == 0, completed.stderr
    assert elapsed < 6
    assert "100 records were not delivered before exit" in completed.stderr


def test_multiprocessing_children_deliver_at_their_end(
    server: LocalTrackAPI,
) -> None:
    completed, _ = run_script(
        server,
        CLIENT,
        """
        import multiprocessing

        def child():
            for number in range(30):
                client.track("process", "from_process", {"n": number})

        def task(number):
            client.track("pool", "from_pool", {"n": number})
            return number

        context = multiprocessing.get_context("fork")
        process = context.Process(target=child)
        process.start()
        process.join(20)
        pool = context.Pool(2)
        print(sum(pool.map(task, range(40))))
        pool.close()
        pool.join()
        """,
    )
    assert completed.returncode == 0, completed.stderr
    assert len(server.events("process")) == 30
    assert len(server.events("pool")) == 40


def test_exit_reports_every_undelivered_record(
    server: LocalTrackAPI,
) -> None:
    server.faults.hang()
    completed, elapsed = run_script(
        server,
        f"""
        import atexit
        from collections import Counter
        reasons = Counter()
        # Registered before the import, so it runs after the exit flush.
        atexit.register(lambda: print(dict(reasons)))
        from cio_pipeline import Client
        client = Client({SITE_ID!r}, {API_KEY!r}, url=URL,
                        shutdown_timeout=1.0, flush_interval=0.01,
                        request_timeout=30, max_batch_bytes=5000,
                        on_error=lambda record, reason: reasons.update(
                            [str(reason)]))
        for number in range(300):
            client.track("u1", "x", {{"n": number}})
        time.sleep(0.3)
        """,
    )
    server.faults.clear()
    assert completed.returncode == 0, completed.stderr
    assert elapsed < 6
    assert completed.stdout.strip() == "{'shutdown_timeout': 300}"


def test_exit_reports_records_against_dead_api(
    server: LocalTrackAPI,
) -> None:
    server.faults.fail(503)
    completed, elapsed = run_script(
        server,
        f"""
        import atexit
        from collections import Counter
        reasons = Counter()
        # Registered before the import, so it runs after the exit flush.
        atexit.register(lambda: print(dict(reasons)))
        from cio_pipeline import Client
        client = Client({SITE_ID!r}, {API_KEY!r}, url=URL,
                        shutdown_timeout=1.0, max_batch_bytes=5000,
                        on_error=lambda record, reason: reasons.update(
                            [str(reason)]))
        for number in range(1000):
            client.track("u1", "x", {{"n": number}})
        """,
    )
    server.faults.clear()
    assert completed.returncode == 0, completed.stderr
    assert elapsed < 5
    assert completed.stdout.strip() == "{'shutdown_timeout': 1000}"


def test_sends_inline_when_no_thread_can_start(
    server: LocalTrackAPI,
) -> None:
    # From Python 3.12 no thread starts at interpreter exit; this
    # interpreter is made to refuse every new thread the same way.
    completed, _ = run_script(
        server,
        CLIENT,
        """
        import threading

        def refuse(self):
            raise RuntimeError("can't create new thread at shutdown")

        threading.Thread.start = refuse
        for number in range(20):
            assert client.track("u1", "inline", {"n": number})
        print(client.stats().delivered)
        """,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "20"
    assert len(server.events("u1")) == 20
