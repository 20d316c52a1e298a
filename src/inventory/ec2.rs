//! EC2 networking: VPCs, subnets, route tables, gateways, security groups, prefix lists.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Observed;

/// The API operations whose answers fill this part of the snapshot, as `service:Operation`
/// (the IAM action, the `source` of an error or evidence).
pub const DESCRIBE_VPCS: &str = "ec2:DescribeVpcs";
pub const DESCRIBE_SUBNETS: &str = "ec2:DescribeSubnets";
pub const DESCRIBE_ROUTE_TABLES: &str = "ec2:DescribeRouteTables";
pub const DESCRIBE_INTERNET_GATEWAYS: &str = "ec2:DescribeInternetGateways";
pub const DESCRIBE_NAT_GATEWAYS: &str = "ec2:DescribeNatGateways";
pub const DESCRIBE_SECURITY_GROUPS: &str = "ec2:DescribeSecurityGroups";
pub const GET_MANAGED_PREFIX_LIST_ENTRIES: &str = "ec2:GetManagedPrefixListEntries";
/// For `--region all`: the regions enabled for the account.
pub const DESCRIBE_REGIONS: &str = "ec2:DescribeRegions";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ec2 {
    pub vpcs: Observed<BTreeMap<String, Vpc>>,
    pub subnets: Observed<BTreeMap<String, Subnet>>,
    pub route_tables: Observed<BTreeMap<String, RouteTable>>,
    pub internet_gateways: Observed<BTreeMap<String, InternetGateway>>,
    pub nat_gateways: Observed<BTreeMap<String, NatGateway>>,
    pub security_groups: Observed<BTreeMap<String, SecurityGroup>>,
    /// Prefix lists that security group rules refer to, with their entries.
    pub prefix_lists: Observed<BTreeMap<String, PrefixList>>,
}

impl Ec2 {
    pub(crate) fn normalize(&mut self) {
        if let Observed::Present { value } = &mut self.security_groups {
            for sg in value.values_mut() {
                for p in sg.ingress.iter_mut().chain(sg.egress.iter_mut()) {
                    p.sources.sort();
                }
                sg.ingress.sort();
                sg.egress.sort();
            }
        }
        if let Observed::Present { value } = &mut self.route_tables {
            for rt in value.values_mut() {
                rt.subnet_ids.sort();
                rt.routes.sort();
            }
        }
        if let Observed::Present { value } = &mut self.vpcs {
            for v in value.values_mut() {
                v.ipv6_cidr_blocks.sort();
            }
        }
        if let Observed::Present { value } = &mut self.internet_gateways {
            for g in value.values_mut() {
                g.attachments.sort();
            }
        }
        if let Observed::Present { value } = &mut self.prefix_lists {
            for p in value.values_mut() {
                if let Observed::Present { value } = &mut p.entries {
                    value.sort();
                }
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Vpc {
    pub id: String,
    /// The primary IPv4 CIDR first, then associated secondary blocks.
    pub cidr_blocks: Vec<String>,
    pub ipv6_cidr_blocks: Vec<String>,
    pub is_default: bool,
    pub state: Option<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub availability_zone: String,
    pub cidr: Option<String>,
    pub map_public_ip_on_launch: bool,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    /// The VPC's main route table, used by every subnet without an explicit association.
    pub main: bool,
    /// Subnets explicitly associated with this table.
    pub subnet_ids: Vec<String>,
    pub routes: Vec<Route>,
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Route {
    /// IPv4 or IPv6 CIDR, or a prefix list id.
    pub destination: String,
    /// The target's id: `igw-…`, `nat-…`, `eigw-…`, `local`, `tgw-…`, `pcx-…`, `eni-…`, …
    pub target: String,
    /// `active` or `blackhole`.
    pub state: Option<String>,
}

impl Route {
    pub fn is_active(&self) -> bool {
        self.state.as_deref() != Some("blackhole")
    }

    pub fn is_default(&self) -> bool {
        self.destination == "0.0.0.0/0" || self.destination == "::/0"
    }

    pub fn targets_internet_gateway(&self) -> bool {
        self.target.starts_with("igw-")
    }

    pub fn targets_nat_gateway(&self) -> bool {
        self.target.starts_with("nat-")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InternetGateway {
    pub id: String,
    pub attachments: Vec<GatewayAttachment>,
    pub tags: BTreeMap<String, String>,
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct GatewayAttachment {
    pub vpc_id: String,
    /// `available` (AWS's word for attached), `attaching`, `detaching`, `detached`.
    pub state: Option<String>,
}

impl InternetGateway {
    pub fn attached_to(&self, vpc_id: &str) -> bool {
        self.attachments.iter().any(|a| {
            a.vpc_id == vpc_id && matches!(a.state.as_deref(), Some("available" | "attached"))
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NatGateway {
    pub id: String,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    /// `pending`, `available`, `failed`, `deleting`, `deleted`.
    pub state: Option<String>,
    /// `public` or `private`; AWS omits it for older gateways, which are public.
    pub connectivity_type: Option<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub vpc_id: Option<String>,
    pub description: Option<String>,
    pub ingress: Vec<Permission>,
    pub egress: Vec<Permission>,
    pub tags: BTreeMap<String, String>,
}

/// One IP permission: a protocol and port range, and where it allows traffic from (or to).
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Permission {
    /// `tcp`, `udp`, `icmp`, `icmpv6`, `-1` (all), or a protocol number.
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub sources: Vec<Peer>,
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Peer {
    /// An IPv4 or IPv6 CIDR block.
    Cidr(String),
    /// Another security group (or the group itself).
    Group(String),
    /// A managed prefix list.
    PrefixList(String),
}

impl Peer {
    pub fn describe(&self) -> String {
        match self {
            Peer::Cidr(c) => c.clone(),
            Peer::Group(g) => g.clone(),
            Peer::PrefixList(p) => format!("prefix list {p}"),
        }
    }
}

impl Permission {
    /// Whether the permission covers every protocol.
    pub fn all_protocols(&self) -> bool {
        self.protocol == "-1" || self.protocol.eq_ignore_ascii_case("all")
    }

    /// Whether traffic to `port` over TCP is allowed by this permission.
    pub fn covers_tcp_port(&self, port: u16) -> bool {
        if self.all_protocols() {
            return true;
        }
        if !(self.protocol == "tcp" || self.protocol == "6") {
            return false;
        }
        self.covers_port_number(port)
    }

    fn covers_port_number(&self, port: u16) -> bool {
        match (self.from_port, self.to_port) {
            // No ports on tcp/udp means all of them; -1 is AWS's "all" for some APIs.
            (None, _) | (_, None) => true,
            (Some(-1), _) | (_, Some(-1)) => true,
            (Some(from), Some(to)) => from <= i32::from(port) && i32::from(port) <= to,
        }
    }

    /// Whether a TCP or UDP permission spans every port (0-65535, or no range given).
    pub fn covers_every_port(&self) -> bool {
        matches!(self.protocol.as_str(), "tcp" | "udp" | "6" | "17")
            && match (self.from_port, self.to_port) {
                (None, _) | (_, None) | (Some(-1), _) => true,
                // 1-65535 leaves out only port 0, which nothing uses.
                (Some(f), Some(t)) => f <= 1 && t >= 65535,
            }
    }

    /// Whether this permission allows exactly TCP on ports within `allowed`.
    pub fn is_tcp_within(&self, allowed: &[u16]) -> bool {
        if self.protocol != "tcp" && self.protocol != "6" {
            return false;
        }
        match (self.from_port, self.to_port) {
            (Some(from), Some(to)) if from >= 0 && to >= from => {
                (from..=to).all(|p| u16::try_from(p).is_ok_and(|p| allowed.contains(&p)))
            }
            _ => false,
        }
    }

    /// `tcp 22`, `tcp 1024-65535`, `all traffic`, `icmp`.
    pub fn describe_ports(&self) -> String {
        if self.all_protocols() {
            return "all traffic".to_string();
        }
        let proto = match self.protocol.as_str() {
            "6" => "tcp",
            "17" => "udp",
            "1" => "icmp",
            other => other,
        };
        if proto.starts_with("icmp") {
            return proto.to_string();
        }
        match (self.from_port, self.to_port) {
            (Some(f), Some(t)) if f == t && f >= 0 => format!("{proto} {f}"),
            (Some(f), Some(t)) if f >= 0 && t >= 0 => format!("{proto} {f}-{t}"),
            _ => format!("{proto} all ports"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PrefixList {
    pub id: String,
    pub name: Option<String>,
    /// The CIDRs in the list (GetManagedPrefixListEntries).
    pub entries: Observed<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perm(protocol: &str, from: Option<i32>, to: Option<i32>) -> Permission {
        Permission {
            protocol: protocol.into(),
            from_port: from,
            to_port: to,
            sources: vec![],
        }
    }

    #[test]
    fn port_ranges_and_all_protocols_cover_every_port_in_them() {
        assert!(perm("-1", None, None).covers_tcp_port(5432));
        assert!(perm("tcp", Some(0), Some(65535)).covers_tcp_port(22));
        assert!(perm("tcp", Some(5000), Some(6000)).covers_tcp_port(5432));
        assert!(!perm("tcp", Some(5433), Some(6000)).covers_tcp_port(5432));
        assert!(!perm("udp", Some(0), Some(65535)).covers_tcp_port(22));
        assert!(perm("6", Some(22), Some(22)).covers_tcp_port(22));
    }

    #[test]
    fn tcp_within_allowed_ports_needs_every_port_of_the_range() {
        assert!(perm("tcp", Some(443), Some(443)).is_tcp_within(&[80, 443]));
        assert!(!perm("tcp", Some(80), Some(443)).is_tcp_within(&[80, 443]));
        assert!(!perm("-1", None, None).is_tcp_within(&[80, 443]));
        assert!(!perm("udp", Some(443), Some(443)).is_tcp_within(&[443]));
    }

    #[test]
    fn ports_read_as_words() {
        assert_eq!(perm("-1", None, None).describe_ports(), "all traffic");
        assert_eq!(perm("tcp", Some(22), Some(22)).describe_ports(), "tcp 22");
        assert_eq!(perm("udp", Some(1), Some(9)).describe_ports(), "udp 1-9");
    }
}
