"""A fleet at real latency: K accounts seeded with a compact LifetimeCircle stack, scanned
through AssumeRole behind a proxy that delays every AWS call (and, for the second table,
throttles a share of them as AWS does). Run by scripts/bench-fleet.sh; a benchmark: it
prints figures and asserts nothing."""

import http.server
import json
import os
import random
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import boto3

from benchlib import measure

ENDPOINT, BINARY, PROFILE = sys.argv[1], sys.argv[2], sys.argv[3]
DELAY = float(sys.argv[4]) / 1000.0
SCALES = [int(n) for arg in sys.argv[5:] for n in arg.split()]
CONCURRENCY = int(os.environ.get("INFRAVERIFY_BENCH_CONCURRENCY", "16"))
THROTTLE = float(os.environ.get("INFRAVERIFY_BENCH_THROTTLE", "0.1"))
REGION = "eu-central-1"
ROLE = "InfraverifyAudit"
CREDS = dict(aws_access_key_id="testing", aws_secret_access_key="testing")


def account(k):
    return f"{100000000000 + k:012d}"


def reset():
    req = urllib.request.Request(ENDPOINT + "/moto-api/reset", method="POST", data=b"")
    urllib.request.urlopen(req).read()


def clients(acct):
    """Clients that act in `acct`: the emulator keeps an assumed role's account."""
    sts = boto3.client("sts", endpoint_url=ENDPOINT, region_name=REGION, **CREDS)
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{acct}:role/seed", RoleSessionName="seed")["Credentials"]
    kw = dict(endpoint_url=ENDPOINT, region_name=REGION, aws_access_key_id=c["AccessKeyId"],
              aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
    return lambda service: boto3.client(service, **kw)


def seed(acct):
    c = clients(acct)
    ec2, rds, elb = c("ec2"), c("rds"), c("elbv2")
    iam = c("iam")
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}))
    iam.create_role(RoleName="lc-exec", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}))
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "lc-prod"}])
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public, private = [], []
    for i, az in enumerate("ab"):
        public.append(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                        AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"])
        private.append(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{10 + i}.0/24",
                                         AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"])
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    for s in public:
        ec2.associate_route_table(RouteTableId=rt, SubnetId=s)
    groups = {}
    for name in ("lc-alb", "lc-api", "lc-db"):
        groups[name] = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=groups["lc-alb"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.authorize_security_group_ingress(GroupId=groups["lc-api"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8000,
        "UserIdGroupPairs": [{"GroupId": groups["lc-alb"]}]}])
    ec2.authorize_security_group_ingress(GroupId=groups["lc-db"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
        "UserIdGroupPairs": [{"GroupId": groups["lc-api"]}]}])
    rds.create_db_subnet_group(DBSubnetGroupName="lc-db-subnets", DBSubnetGroupDescription="db",
                               SubnetIds=private)
    rds.create_db_instance(DBInstanceIdentifier="lc-prod-db", DBInstanceClass="db.t3.medium",
                           Engine="postgres", EngineVersion="16.3", MasterUsername="u",
                           MasterUserPassword="not-a-real-password-1", AllocatedStorage=100,
                           DBSubnetGroupName="lc-db-subnets", VpcSecurityGroupIds=[groups["lc-db"]],
                           MultiAZ=True, BackupRetentionPeriod=30, StorageEncrypted=True)
    lb = elb.create_load_balancer(Name="lc-alb", Subnets=public, SecurityGroups=[groups["lc-alb"]],
                                  Scheme="internet-facing", Type="application")
    elb.create_listener(LoadBalancerArn=lb["LoadBalancers"][0]["LoadBalancerArn"], Protocol="HTTP",
                        Port=80, DefaultActions=[{"Type": "redirect", "RedirectConfig": {
                            "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
    for repo in ("lifetimecircle-api", "lifetimecircle-web"):
        c("ecr").create_repository(repositoryName=repo)
    for secret in ("prod/DATABASE_URL", "prod/LTC_SECRET_KEY"):
        c("secretsmanager").create_secret(Name=secret, SecretString="x")
    c("logs").create_log_group(logGroupName="/ecs/lc-api")
    ecs = c("ecs")
    ecs.create_cluster(clusterName="lc-prod")
    ecs.register_task_definition(family="api", executionRoleArn=f"arn:aws:iam::{acct}:role/lc-exec",
                                 containerDefinitions=[{"name": "api", "image": "api:1", "memory": 512}])


class Proxy(http.server.ThreadingHTTPServer):
    daemon_threads = True
    calls = 0
    throttled = 0
    lock = threading.Lock()
    delay = 0.0
    throttle = 0.0


def throttling_answer(headers, body):
    """AWS's "slow down" in the request's protocol: EC2, the other query services, JSON."""
    auth = headers.get("Authorization", "")
    service = auth.split("Credential=")[-1].split("/")[3] if "Credential=" in auth else ""
    if service == "ec2":
        return 503, "text/xml", (b"<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
                                 b"<Message>Request limit exceeded.</Message></Error></Errors></Response>")
    if headers.get("X-Amz-Target") and b"Action=" not in body:
        return 400, "application/x-amz-json-1.1", b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
    return 400, "text/xml", (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                             b"<Message>Rate exceeded</Message></Error></ErrorResponse>")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.calls += 1
            throttle = random.random() < self.server.throttle
            self.server.throttled += throttle
        time.sleep(self.server.delay)
        if throttle:
            status, ctype, data = throttling_answer(self.headers, body)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        req = urllib.request.Request(ENDPOINT + self.path, data=body if body else None,
                                     headers=headers, method=self.command)
        try:
            resp = urllib.request.urlopen(req)
            status, data, rh = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as e:
            status, data, rh = e.code, e.read(), e.headers
        self.send_response(status)
        for k, v in rh.items():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward


def start_proxy(delay, throttle=0.0):
    p = Proxy(("127.0.0.1", 0), Handler)
    p.delay = delay
    p.throttle = throttle
    threading.Thread(target=p.serve_forever, daemon=True).start()
    return p


def verdicts(report):
    return sorted((f["rule"], f["resource"]["id"], f["resource"].get("account"), f["status"])
                  for f in report["findings"])


def scan(proxy, k, out, concurrency=CONCURRENCY, extra=()):
    """Wall seconds, peak RSS (MiB), calls and the report of one scan of the first k
    accounts through `proxy`."""
    accounts = os.path.join(out, "accounts.toml")
    with open(accounts, "w") as f:
        f.write(f'role = "{ROLE}"\n')
        for i in range(k):
            f.write(f'\n[[accounts]]\nid = "{account(i)}"\n')
    env = {n: v for n, v in os.environ.items() if not n.startswith(("AWS_", "INFRAVERIFY_"))}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE="/nonexistent",
               AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    args = [BINARY, "scan", "--no-probes", "--region", REGION,
            "--endpoint-url", f"http://127.0.0.1:{proxy.server_address[1]}",
            "--accounts", accounts, "--concurrency", str(concurrency),
            "--format", "json", "--out-dir", os.path.join(out, "r"), *extra]
    proxy.calls = proxy.throttled = 0
    wall, peak = measure(args, env)
    report = json.load(open(os.path.join(out, "r", "report.json")))
    return wall, peak, proxy.calls, report


def main():
    top = max(SCALES)
    print(f"infraverify fleet benchmark: {PROFILE} build, {DELAY * 1000:.0f} ms per call, "
          f"--concurrency {CONCURRENCY}, one region, {os.cpu_count()} cores\n")
    reset()
    t = time.monotonic()
    for k in range(top):
        seed(account(k))
    print(f"seeded {top} accounts in {time.monotonic() - t:.1f} s")
    slow, fast = start_proxy(DELAY), start_proxy(0.0)
    throttling = start_proxy(DELAY, THROTTLE)
    rows, throttled_rows = [], []
    with tempfile.TemporaryDirectory() as out:
        # The longest chain of dependent calls: one account with no bound on calls in flight.
        scan(fast, 1, out)  # warm the emulator
        chain, _, _, _ = scan(slow, 1, out, concurrency=256, extra=("--region-concurrency", "256"))
        for k in SCALES:
            scan(fast, k, out)  # warm the emulator
            bare, _, _, _ = scan(fast, k, out)
            wall, rss, calls, report = scan(slow, k, out)
            if report["errors"]:
                sys.exit(f"the scan had collection errors: {report['errors'][:3]}")
            latency_floor = calls * DELAY / CONCURRENCY
            floor = max(latency_floor, bare)
            rows.append((k, wall, rss, calls, latency_floor, bare, floor))
            if THROTTLE > 0:
                twall, trss, tcalls, treport = scan(throttling, k, out)
                same = verdicts(treport) == verdicts(report)
                throttled_rows.append((k, wall, twall, throttling.throttled, tcalls,
                                       len(treport["errors"]), same))
    print(f"\nlongest chain of dependent calls (one account, unbounded): {chain:.2f} s "
          f"(about {chain / DELAY:.0f} calls deep)")
    print("\n|   K | wall (s) | peak RSS (MiB) | calls | calls x delay / conc. (s) | no delay (s) | floor (s) | wall / floor |")
    print("|----:|---------:|---------------:|------:|--------------------------:|-------------:|----------:|-------------:|")
    for k, wall, rss, calls, lat, bare, floor in rows:
        print(f"| {k:3d} | {wall:8.2f} | {rss:14.1f} | {calls:5d} | {lat:25.2f} | {bare:12.2f} | "
              f"{floor:9.2f} | {wall / floor:12.2f} |")
    print("\nwall and peak RSS (VmHWM) of one scan through the delaying proxy; calls: as the proxy"
          " counted them (AssumeRole and GetCallerIdentity included); floor: the larger of the"
          " latency floor and the same scan with no delay (the emulator's own service time).")
    if throttled_rows:
        print(f"\nthrottling {THROTTLE:.0%} of calls at random (AWS's answer in each protocol):\n")
        print("|   K | wall (s) | throttled wall (s) | ratio | throttled answers | calls | errors | same verdicts |")
        print("|----:|---------:|-------------------:|------:|------------------:|------:|-------:|:--------------|")
        for k, wall, twall, n, calls, errors, same in throttled_rows:
            print(f"| {k:3d} | {wall:8.2f} | {twall:18.2f} | {twall / wall:5.2f} | {n:17d} | {calls:5d} | "
                  f"{errors:6d} | {'yes' if same else 'NO'} |")


main()
