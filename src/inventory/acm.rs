//! AWS Certificate Manager: the certificates of one region, for TLS-1 … TLS-3.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Observed, Timestamp};

/// The API operations whose answers fill this part of the snapshot, as `service:Operation`
/// (the IAM action, the `source` of an error or evidence).
pub const LIST_CERTIFICATES: &str = "acm:ListCertificates";
pub const DESCRIBE_CERTIFICATE: &str = "acm:DescribeCertificate";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Acm {
    /// Keyed by ARN. Every key type is listed, not only ListCertificates' default RSA_2048.
    pub certificates: Observed<BTreeMap<String, Certificate>>,
}

/// One certificate, from ListCertificates, with DescribeCertificate's details.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Certificate {
    pub arn: String,
    pub domain_name: String,
    /// `ISSUED`, `PENDING_VALIDATION`, `EXPIRED`, `INACTIVE`, `REVOKED`, `FAILED`, ...
    pub status: String,
    /// `AMAZON_ISSUED`, `IMPORTED` or `PRIVATE`.
    #[serde(rename = "type")]
    pub cert_type: String,
    pub key_algorithm: Option<String>,
    pub not_before: Option<Timestamp>,
    pub not_after: Option<Timestamp>,
    /// `ELIGIBLE` or `INELIGIBLE`.
    pub renewal_eligibility: Option<String>,
    /// DescribeCertificate (one call per certificate: there is no batch form).
    pub detail: Observed<CertificateDetail>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CertificateDetail {
    /// Every name the certificate covers, the domain name included, lowercased.
    pub names: Vec<String>,
    /// As ACM writes it: lowercase hex pairs joined by `:`.
    pub serial: Option<String>,
    /// ARNs of the load balancers (or distributions) that use it.
    pub in_use_by: Vec<String>,
    pub validation: Vec<DomainValidation>,
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct DomainValidation {
    pub domain: String,
    /// `DNS`, `EMAIL` or `HTTP`.
    pub method: Option<String>,
    pub status: Option<String>,
    /// The CNAME that proves control of the domain, for DNS validation.
    pub record: Option<ValidationRecord>,
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ValidationRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub value: String,
}

impl Acm {
    pub(crate) fn normalize(&mut self) {
        if let Observed::Present { value } = &mut self.certificates {
            for c in value.values_mut() {
                if let Observed::Present { value: d } = &mut c.detail {
                    d.names.sort();
                    d.names.dedup();
                    d.in_use_by.sort();
                    d.validation.sort();
                }
            }
        }
    }
}
