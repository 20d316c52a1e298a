"""Seeds the emulator at scale and measures scans. Run by scripts/bench.sh."""

import json
import os
import re
import sys
import tempfile
import time
import urllib.request
from collections import Counter

import boto3

from benchlib import measure

ENDPOINT, BINARY, PROFILE = sys.argv[1], sys.argv[2], sys.argv[3]
SCALES = [int(n) for arg in sys.argv[4:] for n in arg.split()]
REGION = "eu-central-1"
KW = dict(endpoint_url=ENDPOINT, region_name=REGION,
          aws_access_key_id="testing", aws_secret_access_key="testing")


def reset():
    req = urllib.request.Request(ENDPOINT + "/moto-api/reset", method="POST", data=b"")
    urllib.request.urlopen(req).read()


def seed(n):
    ec2, rds = boto3.client("ec2", **KW), boto3.client("rds", **KW)
    elb, acm = boto3.client("elbv2", **KW), boto3.client("acm", **KW)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
               for i, az in enumerate("ab")]
    groups = []
    for i in range(n * 10):
        g = ec2.create_security_group(GroupName=f"bench-{i}", Description="bench", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
            "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
        groups.append(g)
    if n:
        rds.create_db_subnet_group(DBSubnetGroupName="bench", DBSubnetGroupDescription="bench",
                                   SubnetIds=subnets)
    for i in range(n):
        rds.create_db_instance(DBInstanceIdentifier=f"bench-db-{i}", DBInstanceClass="db.t3.small",
                               Engine="postgres", EngineVersion="16.3", MasterUsername="u",
                               MasterUserPassword="not-a-real-password-1", AllocatedStorage=100,
                               DBSubnetGroupName="bench", VpcSecurityGroupIds=[groups[i]])
        acm.request_certificate(DomainName=f"app{i}.bench.example", ValidationMethod="DNS")
        lb = elb.create_load_balancer(Name=f"bench-{i}", Subnets=subnets, SecurityGroups=[groups[i]],
                                      Scheme="internet-facing", Type="application")
        elb.create_listener(LoadBalancerArn=lb["LoadBalancers"][0]["LoadBalancerArn"], Protocol="HTTP",
                            Port=80, DefaultActions=[{"Type": "redirect", "RedirectConfig": {
                                "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])


def scan(concurrency, count_calls=False):
    """Wall seconds, peak RSS (MiB) and (with count_calls, from the -vv log of every AWS
    call) calls per operation of one scan."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "INFRAVERIFY_"))}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE="/nonexistent",
               AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    with tempfile.TemporaryDirectory() as out:
        args = [BINARY] + (["-vv"] if count_calls else []) + [
            "scan", "--no-probes", "--region", REGION, "--endpoint-url", ENDPOINT,
            "--concurrency", str(concurrency), "--format", "json", "--out-dir", out]
        log = tempfile.TemporaryFile(mode="w+")
        wall, peak = measure(args, env, stderr=log)
        log.seek(0)
        err = log.read()
        report = json.load(open(os.path.join(out, "report.json")))
    if report["errors"]:
        sys.exit(f"the scan had collection errors: {report['errors'][:3]}")
    calls = Counter()
    for line in err.splitlines():
        m = re.search(r'op="([^"]+)"', line)
        if m and re.search(r":\s+ok\b", line):
            calls[m.group(1)] += 1
    return wall, peak, calls


def main():
    print(f"infraverify benchmark: {PROFILE} build, moto at {ENDPOINT}, one region, "
          f"{os.cpu_count()} cores\n")
    rows = []
    for n in SCALES:
        reset()
        t = time.monotonic()
        seed(n)
        seeded = time.monotonic() - t
        calls = scan(16, count_calls=True)[2]  # also warms the emulator's lazy backends
        wall, rss, _ = min((scan(16) for _ in range(3)), key=lambda r: r[0])
        floor = min(scan(1)[0] for _ in range(3))
        rows.append((n, wall, floor, rss, sum(calls.values())))
        print(f"N={n}: seeded in {seeded:.1f} s; {sum(calls.values())} API calls:")
        for op, c in sorted(calls.items()):
            print(f"    {c:5d}  {op}")
    print("\n|   N | scan (s) | floor (s) | scan / floor | peak RSS (MiB) | API calls |")
    print("|----:|---------:|----------:|-------------:|---------------:|----------:|")
    for n, wall, floor, rss, calls in rows:
        print(f"| {n:3d} | {wall:8.2f} | {floor:9.2f} | {wall / floor:12.2f} | {rss:14.1f} | {calls:9d} |")
    print("\nscan: best of 3 at --concurrency 16 (peak RSS of that run, VmHWM sampled every"
          " 2 ms); floor: best of 3 at --concurrency 1; API calls: counted from a -vv run.")


main()
