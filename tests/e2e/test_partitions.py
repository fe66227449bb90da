"""Network partitions of a live 3-node cluster (tests/e2e/netns.py): every
node keeps running, keeps its clients and its files, and only the network
between the nodes fails. Each case runs under cart and order load from
clients in the root namespace, and afterwards checks what must hold:

- every acknowledged cart add is in its cart;
- every acknowledged order ends (Confirmed or Cancelled);
- stock on hand + sold is what it was;
- no payment was captured twice;
- no two nodes ever wrote the same shard file at once (each shard file's
  ownership epochs: the writes of an older epoch all end before a newer
  epoch opens).
Where namespaces cannot be made the suite fails and says why."""
import datetime
import re
import threading
import time
import unittest

from harness import big_stock_products, orders_charged_twice, overlapping_writers, units_accounted, writer_epochs
from netns import NetnsCluster, namespaces_available

PEER_TIMEOUT = 2.0
HEARTBEAT = 0.5


class Load:
    """Cart adds and orders through the chosen nodes until stopped, with
    every answer counted."""

    def __init__(self, cluster, via, cart_users=6, order_users=4):
        self.c = cluster
        self.via = list(via)
        entry = self.c[self.via[0]]
        products = [pid for pid, _ in big_stock_products(entry, 24)]
        # Carts spread over 20 products (a cart line may not hold more than
        # the stock); orders buy the 3 with the most stock.
        self.order_products = products[:3]
        self.cart_products = products[4:24]
        self.initial = {pid: units_accounted(cluster.data_dir, pid)
                        for pid in self.order_products}
        self.cart_tokens, self.order_tokens = [], []
        stamp = time.time_ns()
        for k in range(cart_users):
            self.cart_tokens.append(entry.new_user(f"cart{k}-{stamp}@p.test")["token"])
        for k in range(order_users):
            self.order_tokens.append(entry.new_user(f"order{k}-{stamp}@p.test")["token"])
        self.acked_adds = [{} for _ in range(cart_users)]  # user -> {product: adds}
        self.orders = []  # (user index, order id)
        self.errors = []  # (sent at, node index, status or exception, path): 5xx, no answer
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = []

    def note(self, sent_at, node, what, path):
        with self.lock:
            self.errors.append((sent_at, node, what, path))

    def errors_since(self, moment, nodes):
        return [e for e in self.errors if e[0] >= moment and e[1] in nodes]

    def adds(self):
        return sum(sum(a.values()) for a in self.acked_adds)

    def call(self, i, method, path, body, token, **kw):
        sent_at = time.time()
        try:
            status, answer, headers = self.c[i].request(method, path, body, token=token,
                                                        timeout=15, **kw)
        except OSError as e:
            self.note(sent_at, i, type(e).__name__, path)
            return None, None
        if status >= 500:
            self.note(sent_at, i, status, path)
        return status, answer

    def cart_user(self, k):
        n = 0
        while not self.stop.is_set():
            i = self.via[(k + n) % len(self.via)]
            n += 1
            pid = self.cart_products[(k * 7 + n) % len(self.cart_products)]
            status, _ = self.call(i, "POST", "/api/cart/add", {"productId": pid, "quantity": 1},
                                  self.cart_tokens[k])
            if status == 200:
                self.acked_adds[k][pid] = self.acked_adds[k].get(pid, 0) + 1
            time.sleep(0.02)

    def order_user(self, k):
        n = 0
        while not self.stop.is_set():
            i = self.via[(k + n) % len(self.via)]
            n += 1
            pid = self.order_products[n % len(self.order_products)]
            status, _ = self.call(i, "POST", "/api/cart/add", {"productId": pid, "quantity": 1},
                                  self.order_tokens[k])
            if status != 200:
                time.sleep(0.1)
                continue
            status, placed = self.call(i, "POST", "/api/orders/place",
                                       {"paymentMethodId": "pm_card_visa"}, self.order_tokens[k],
                                       headers={"Idempotency-Key": f"o{k}-{n}"})
            if status == 200:
                with self.lock:
                    self.orders.append((k, placed["orderId"]))
            time.sleep(0.05)

    def start(self):
        self.threads = [threading.Thread(daemon=True, target=self.cart_user, args=(k,))
                        for k in range(len(self.cart_tokens))]
        self.threads += [threading.Thread(daemon=True, target=self.order_user, args=(k,))
                         for k in range(len(self.order_tokens))]
        for t in self.threads:
            t.start()
        return self

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)


class PartitionTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = namespaces_available()
        if why:
            raise AssertionError(f"network namespaces are needed and cannot be made: {why}")

    def setUp(self):
        self.c = NetnsCluster().start()
        self.addCleanup(self.c.close)
        self.wait_whole()

    # -- views ----------------------------------------------------------------
    def views(self, members):
        return {i: self.c.health(i) for i in members}

    def wait_whole(self, members=(1, 2, 3), timeout=60):
        deadline = time.time() + timeout
        v = None
        while time.time() < deadline:
            try:
                v = self.views(members)
                if all(x and x["quorum"] and x["liveMembers"] == len(members) and
                       x["readyShards"] == x["ownedShards"] for x in v.values()) and \
                        sum(x["ownedShards"] for x in v.values()) == 12:
                    return v
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"the cluster did not become whole: last views {v}; logs: " +
                             " | ".join(self.c[i].log()[-800:] for i in members))

    def log_lines_between(self, node, start, end, limit=80):
        """The node's log lines stamped between two times (time.time())."""
        lines = []
        for line in self.c[node].log(tail=None).splitlines():
            stamp = re.search(r'"ts":"([^"]+)"', line)
            if not stamp:
                continue
            at = datetime.datetime.strptime(stamp.group(1), "%Y-%m-%dT%H:%M:%S.%fZ")
            at = at.replace(tzinfo=datetime.timezone.utc).timestamp()
            if start <= at <= end:
                lines.append(line)
        return lines[:limit]

    def wait_until(self, predicate, timeout, what):
        start = time.time()
        while time.time() - start < timeout:
            try:
                if predicate():
                    return time.time() - start
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{what} not within {timeout} s")

    # -- what must hold after every case ---------------------------------------
    def check_invariants(self, load, read_via):
        node = self.c[read_via]
        for k, token in enumerate(load.cart_tokens):
            status, cart, _ = node.request("GET", "/api/cart", token=token)
            self.assertEqual(status, 200, cart)
            held = {i["productId"]: i["quantity"] for i in cart["items"]}
            for pid, acked in load.acked_adds[k].items():
                self.assertGreaterEqual(held.get(pid, 0), acked, f"cart user {k}, product {pid}")
        for k, oid in load.orders:
            deadline = time.time() + 60
            while True:
                status, order, _ = node.request("GET", f"/api/orders/{oid}",
                                                token=load.order_tokens[k])
                if status == 200 and order["state"] in ("Confirmed", "Cancelled"):
                    break
                self.assertLess(time.time(), deadline, (oid, status, order))
                time.sleep(0.1)
        for pid, units in load.initial.items():
            self.assertEqual(units_accounted(self.c.data_dir, pid), units, pid)
        self.assertEqual(orders_charged_twice(self.c.data_dir), [])
        self.assertEqual(overlapping_writers(self.c.data_dir), [])
        self.assertGreater(load.adds(), 0)
        self.assertGreater(len(load.orders), 0)

    def check_no_errors_after(self, load, moment, nodes):
        """A request sent once the cluster is whole again gets no error."""
        self.assertEqual(load.errors_since(moment, nodes), [])

    def heal_and_check(self, load, read_via, heal, timeout=60):
        """Mends the network with `heal()`, waits for the cluster to be whole,
        lets the load run 2 s more, and checks what must hold."""
        heal()
        self.wait_whole(timeout=timeout)
        whole_at = time.time()
        time.sleep(2.0)
        load.finish()
        self.check_invariants(load, read_via=read_via)
        self.check_no_errors_after(load, whole_at, (1, 2))
        return whole_at

    def wait_majority_serves(self, bound):
        return self.wait_until(
            lambda: sum(v["readyShards"] for v in self.views((1, 2)).values()) == 12,
            bound, "the majority serving all 12 shards")

    def refuses_writes(self, i, token):
        status, body, headers = self.c[i].request(
            "POST", "/api/cart/add", {"productId": 1, "quantity": 1}, token=token, timeout=15)
        return status == 503 and headers.get("retry-after") and body["code"] == "unavailable"

    # -- cases ----------------------------------------------------------------
    def test_an_isolated_owner_lets_go_and_the_majority_serves_its_shards(self):
        before = self.views((1, 2, 3))
        self.assertGreater(before[3]["ownedShards"], 0)  # it has shards to lose
        load = Load(self.c, via=(1, 2)).start()
        probe = load.order_tokens[0]
        time.sleep(1.0)
        cut_at = time.time()
        self.c.isolate(3)
        # Within peer timeout (+ one heartbeat, when CAF looks) + 1 s: the
        # isolated node holds no shard and refuses writes; the majority
        # serves every shard.
        bound = PEER_TIMEOUT + HEARTBEAT + 1.0
        alone = self.wait_until(lambda: self.c.health(3)["ownedShards"] == 0 and
                                self.c.health(3)["readyShards"] == 0 and
                                self.refuses_writes(3, probe), bound, "node 3 letting go")
        served = self.wait_majority_serves(bound)
        print(f"\n  isolated: node 3 refused writes after {alone:.2f} s, "
              f"the majority served all shards after {time.time() - cut_at:.2f} s", flush=True)
        time.sleep(2.0)
        self.heal_and_check(load, 1, lambda: self.c.reconnect(3))
        during = load.errors_since(cut_at, (1, 2))
        print(f"  {load.adds()} adds, {len(load.orders)} orders acknowledged; "
              f"{len(during)} errors at the majority since the cut", flush=True)
        self.assertTrue(served <= bound)
        # Requests in flight to node 3 at the cut were sent again to the
        # shards' new owners once node 3 was declared down: no client of the
        # majority saw an error. On failure (1 run in ~8 saw one 504 on an
        # order placement), when each error's request was sent and what every
        # node logged from 1 s before until its answer was due.
        self.assertEqual(during, [], "".join(
            f"\n--- {e[2]} on {e[3]} via node {e[1]}, sent {e[0] - cut_at:.2f} s after the cut; "
            f"nodes' logs from 1 s before to 6 s after:\n" +
            "\n".join(f"node {i}: {line}" for i in (1, 2, 3)
                      for line in self.log_lines_between(i, e[0] - 1.0, e[0] + 6.0))
            for e in during[:3]))

    def test_a_node_that_hears_but_is_not_heard(self):
        load = Load(self.c, via=(1, 2)).start()
        time.sleep(1.0)
        self.c.mute(3)
        bound = PEER_TIMEOUT + HEARTBEAT + 1.0
        self.wait_until(lambda: self.c.health(3)["ownedShards"] == 0, bound + 2.0,
                        "the muted node letting go")
        self.wait_majority_serves(bound)
        self.assertTrue(self.refuses_writes(3, load.order_tokens[0]))
        time.sleep(2.0)
        self.heal_and_check(load, 2, lambda: self.c.unmute(3))

    def test_a_flapping_link(self):
        load = Load(self.c, via=(1, 2)).start()
        time.sleep(1.0)
        end = time.time() + 10
        up = True
        while time.time() < end:  # down/up every 300 ms for 10 s
            up = not up
            (self.c.reconnect if up else self.c.isolate)(3)
            time.sleep(0.3)
        self.heal_and_check(load, 1, lambda: self.c.reconnect(3), timeout=90)
        epochs = sum(len(rows) for rows in writer_epochs(self.c.data_dir).values())
        print(f"\n  flapping: {epochs} shard openings in all, "
              f"{load.adds()} adds and {len(load.orders)} orders acknowledged", flush=True)

    def test_a_link_between_two_nodes_fails_and_the_third_reaches_both(self):
        # Node 2 and node 3 lose each other; node 1 still reaches both. The
        # views diverge ({1,2,3} at node 1, {1,2} at node 2, {1,3} at node 3)
        # and a request may travel through node 1 to the node that has its
        # shard open: every answer must find its way back to the client.
        load = Load(self.c, via=(1, 2, 3)).start()
        time.sleep(1.0)
        self.c.cut_pair(2, 3)
        bound = PEER_TIMEOUT + HEARTBEAT + 1.0
        self.wait_until(lambda: self.c.health(2)["liveMembers"] == 2 and
                        self.c.health(3)["liveMembers"] == 2, bound + 2.0,
                        "nodes 2 and 3 noticing the cut")
        diverged_at = time.time()
        time.sleep(6.0)  # longer than a client's 5 s request timeout
        during = load.errors_since(diverged_at, (1, 2, 3))
        views = self.views((1, 2, 3))
        print(f"\n  cut 2-3: views {[(i, v['liveMembers'], v['ownedShards'], v['readyShards']) for i, v in views.items()]}; "
              f"errors while diverged: {[e[1:] for e in during][:6]}", flush=True)
        self.assertEqual(views[1]["liveMembers"], 3)
        # Every shard is open on some node: one that a node's new view gives
        # to a peer whose own view does not claim it stays where it is.
        self.assertEqual(sum(v["readyShards"] for v in views.values()), 12)
        whole_at = self.heal_and_check(load, 1, lambda: self.c.mend_pair(2, 3))
        self.assertEqual(during, [])
        self.check_no_errors_after(load, whole_at, (1, 2, 3))

    def test_the_majority_losing_a_second_node_leaves_no_quorum_anywhere(self):
        load = Load(self.c, via=(1, 2)).start()
        token = load.order_tokens[0]
        time.sleep(1.0)
        self.c.isolate(3)
        bound = PEER_TIMEOUT + HEARTBEAT + 1.0
        self.wait_majority_serves(bound)
        self.c.isolate(2)  # now each node is alone
        self.wait_until(lambda: all(not v["quorum"] and v["ownedShards"] == 0 and
                                    v["readyShards"] == 0
                                    for v in self.views((1, 2, 3)).values()),
                        bound, "every node without quorum and shards")
        for i in (1, 2, 3):
            self.assertTrue(self.refuses_writes(i, token), i)
            status, _, _ = self.c[i].request("GET", "/api/products?pageSize=1")
            self.assertEqual(status, 200)  # reads of the catalog go on
        time.sleep(1.0)
        self.heal_and_check(load, 1, lambda: (self.c.reconnect(2), self.c.reconnect(3)))


if __name__ == "__main__":
    unittest.main()
