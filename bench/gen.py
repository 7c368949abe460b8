#!/usr/bin/env python3
"""Scenario generator for bench/run.

Writes, into an output directory:
  world.json     the fake cloud's initial world (fakecloud --state FILE)
  pools.ini      the [pool ...] sections declaring the wanted members
  declared.json  {pool_id or vserver_id: ["addr:port", ...]} for the
                 shell baseline (jq computes the undeclared members from it)
  pools.txt      one pool_id / vserver_id per line, config order
  expect.json    counts the harness needs: pools, members, removals, ...

Ids come from a seeded generator so that every run sees the same world.
Undeclared members are spread through each pool (every k-th member)
rather than bunched at the end, so that paging and id order do not make
one scenario easier than the real thing.
"""
import argparse
import json
import os
import random


def addr(k):
    # 10.0.0.1 onward; k < 2**24 keeps it a valid IPv4 address.
    k += 1
    return "10.%d.%d.%d" % ((k >> 16) & 255, (k >> 8) & 255, k & 255)


def uuid4(rng):
    h = "%032x" % rng.getrandbits(128)
    return "%s-%s-4%s-a%s-%s" % (h[0:8], h[8:12], h[13:16], h[17:20], h[20:32])


def short_id(rng, prefix, seen):
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    while True:
        s = prefix + "".join(rng.choice(alphabet) for _ in range(8))
        if s not in seen:
            seen.add(s)
            return s


def undeclared_set(members, undeclared):
    """Indices of the members that the config will not declare."""
    if undeclared <= 0:
        return set()
    step = members / undeclared
    return {int(i * step + step / 2) for i in range(undeclared)}


def gen_hw(a, rng):
    world = {"hw": {"accounts": [{"ak": a.ak, "sk": a.sk,
                                  "project_id": a.project,
                                  "token": a.token}],
                    "pools": []},
             "uc": {"accounts": [], "vservers": []}}
    ini, declared, ids = [], {}, []
    k = 0
    for p in range(a.pools):
        pool_id = uuid4(rng)
        ids.append(pool_id)
        skip = undeclared_set(a.members, a.undeclared)
        members, want = [], []
        for m in range(a.members):
            # Ports vary so that the fake's linear duplicate scan on load
            # mostly stops at an integer compare (100,000-member pools).
            ep = (addr(k), 80 + k % 8000)
            k += 1
            members.append({"id": uuid4(rng), "address": ep[0],
                            "protocol_port": ep[1]})
            if m not in skip:
                want.append("%s:%d" % ep)
        # The fake keeps members sorted by id and inserts each one with
        # a memmove: handing them over in id order keeps loading linear
        # in that respect (see README: the fake's duplicate check is not).
        members.sort(key=lambda x: x["id"])
        world["hw"]["pools"].append({"project_id": a.project,
                                     "pool_id": pool_id,
                                     "members": members})
        declared[pool_id] = want
        ini.append("\n[pool p%04d]\nprovider = hw\npool_id = %s\n"
                   % (p, pool_id))
        ini.append("".join("member = %s\n" % w for w in want))
    return world, ini, declared, ids


def gen_uc(a, rng):
    world = {"hw": {"accounts": [], "pools": []},
             "uc": {"accounts": [{"public_key": a.ak, "private_key": a.sk,
                                  "project_id": a.project}],
                    "vservers": []}}
    ini, declared, ids = [], {}, []
    seen = set()
    k = 0
    n_policies = 0
    for p in range(a.pools):
        ulb = short_id(rng, "ulb-", seen)
        vs = short_id(rng, "vserver-", seen)
        ids.append(vs)
        skip = sorted(undeclared_set(a.members, a.undeclared))
        backends, want, bids = [], [], []
        for m in range(a.members):
            ep = (addr(k), 8080)
            k += 1
            bid = short_id(rng, "backend-", seen)
            bids.append(bid)
            backends.append({"backend_id": bid, "private_ip": ep[0],
                             "port": ep[1]})
            if m not in skip:
                want.append("%s:%d" % ep)
        # Half of the undeclared backends sit in Custom policies, split
        # over a.policies policies; each policy also keeps some declared
        # backends so that none of them would be emptied.
        in_pol = skip[::2]
        kept = [i for i in range(a.members) if i not in set(skip)]
        policies = []
        for j in range(a.policies):
            mine = in_pol[j::a.policies] + kept[j * 4:j * 4 + 4]
            policies.append({"policy_id": short_id(rng, "policy-", seen),
                             "type": "Path", "match": "/p%d" % j,
                             "backend_ids": [bids[i] for i in sorted(mine)]})
            n_policies += 1
        world["uc"]["vservers"].append({
            "project_id": a.project, "region": "cn-bj2", "ulb_id": ulb,
            "vserver_id": vs, "protocol": "HTTP", "frontend_port": 80,
            "backends": backends, "policies": policies})
        declared[vs] = want
        ini.append("\n[pool v%04d]\nprovider = sc\nulb_id = %s\n"
                   "vserver_id = %s\n" % (p, ulb, vs))
        ini.append("".join("member = %s\n" % w for w in want))
    return world, ini, declared, ids, n_policies


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cloud", choices=["hw", "uc"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--pools", type=int, required=True)
    ap.add_argument("--members", type=int, required=True)
    ap.add_argument("--undeclared", type=int, required=True)
    ap.add_argument("--policies", type=int, default=2)
    ap.add_argument("--project", required=True)
    ap.add_argument("--ak", required=True)
    ap.add_argument("--sk", required=True)
    ap.add_argument("--token", default="")
    ap.add_argument("--seed", type=int, default=5)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    n_pol = 0
    if a.cloud == "hw":
        world, ini, declared, ids = gen_hw(a, rng)
    else:
        world, ini, declared, ids, n_pol = gen_uc(a, rng)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "world.json"), "w") as f:
        json.dump(world, f, separators=(",", ":"))
    with open(os.path.join(a.out, "pools.ini"), "w") as f:
        f.write("".join(ini))
    with open(os.path.join(a.out, "declared.json"), "w") as f:
        json.dump(declared, f, separators=(",", ":"))
    with open(os.path.join(a.out, "pools.txt"), "w") as f:
        f.write("".join(i + "\n" for i in ids))
    removals = a.pools * min(a.undeclared, a.members)
    with open(os.path.join(a.out, "expect.json"), "w") as f:
        json.dump({"pools": a.pools, "members": a.pools * a.members,
                   "removals": removals, "policies": n_pol}, f)


if __name__ == "__main__":
    main()
