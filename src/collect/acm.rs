//! ACM collector: ListCertificates with every key type (by default AWS lists only
//! RSA_2048 certificates), then DescribeCertificate per certificate, concurrently (there is
//! no batch form), for the full name list, serial, users and validation records.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_acm::types::{CertificateKeyPairOrigin, Filters, KeyAlgorithm};
use aws_sdk_acm::Client;

use super::{each, timestamp, Caller};
use crate::inventory::acm::{
    Acm, Certificate, CertificateDetail, DomainValidation, ValidationRecord,
};
use crate::inventory::acm::{DESCRIBE_CERTIFICATE, LIST_CERTIFICATES};
use crate::inventory::route53::canonical_name;
use crate::inventory::Observed;
use crate::paginate;

/// The IAM actions this collector calls: exactly its operations.
pub const ACTIONS: &[&str] = &[LIST_CERTIFICATES, DESCRIBE_CERTIFICATE];

pub async fn collect(ctx: &Caller, cfg: &SdkConfig) -> Acm {
    let conf = aws_sdk_acm::config::Builder::from(cfg)
        .region(aws_sdk_acm::config::Region::new(ctx.region.clone()))
        .build();
    let c = Client::from_conf(conf);
    let every_key_type = Filters::builder()
        .set_key_types(Some(
            KeyAlgorithm::values()
                .iter()
                .map(|k| KeyAlgorithm::from(*k))
                .collect(),
        ))
        .build();
    let pages = match paginate!(
        ctx,
        LIST_CERTIFICATES,
        // Every key type and every key-pair origin: by default AWS lists only RSA-2048 and
        // RSA-1024 certificates, and none whose key pair comes from ACME.
        c.list_certificates()
            .includes(every_key_type)
            .set_certificate_key_pair_origins(Some(
                CertificateKeyPairOrigin::values()
                    .iter()
                    .map(|o| CertificateKeyPairOrigin::from(*o))
                    .collect(),
            ))
            .max_items(1000)
            .into_paginator()
            .send()
    ) {
        Ok(p) => p,
        Err(e) => {
            return Acm {
                certificates: Observed::unavailable(e),
            }
        }
    };
    let listed: Vec<Certificate> = pages
        .iter()
        .flat_map(|p| p.certificate_summary_list())
        .filter_map(|s| {
            Some(Certificate {
                arn: s.certificate_arn()?.to_string(),
                domain_name: canonical_name(s.domain_name().unwrap_or_default()),
                status: s
                    .status()
                    .map(|v| v.as_str().to_string())
                    .unwrap_or_default(),
                cert_type: s
                    .r#type()
                    .map(|v| v.as_str().to_string())
                    .unwrap_or_default(),
                key_algorithm: s.key_algorithm().map(|v| v.as_str().to_string()),
                not_before: s.not_before().and_then(timestamp),
                not_after: s.not_after().and_then(timestamp),
                renewal_eligibility: s.renewal_eligibility().map(|v| v.as_str().to_string()),
                detail: Observed::Absent,
            })
        })
        .collect();
    let described = each(listed, |mut cert| {
        let (ctx, c) = (ctx.clone(), c.clone());
        async move {
            let out = ctx
                .call(
                    DESCRIBE_CERTIFICATE,
                    c.describe_certificate().certificate_arn(&cert.arn).send(),
                )
                .await;
            cert.detail = match out {
                Err(e) => Observed::unavailable(e),
                Ok(out) => match out.certificate() {
                    None => Observed::Absent,
                    Some(d) => {
                        // DescribeCertificate is the fresher, fuller answer.
                        if let Some(s) = d.status() {
                            cert.status = s.as_str().to_string();
                        }
                        if let Some(t) = d.not_after().and_then(timestamp) {
                            cert.not_after = Some(t);
                        }
                        if let Some(t) = d.not_before().and_then(timestamp) {
                            cert.not_before = Some(t);
                        }
                        if let Some(r) = d.renewal_eligibility() {
                            cert.renewal_eligibility = Some(r.as_str().to_string());
                        }
                        let mut names: Vec<String> = d
                            .subject_alternative_names()
                            .iter()
                            .map(|n| canonical_name(n))
                            .collect();
                        names.push(cert.domain_name.clone());
                        Observed::present(CertificateDetail {
                            names,
                            serial: d.serial().map(|s| s.to_ascii_lowercase()),
                            in_use_by: d.in_use_by().to_vec(),
                            validation: d
                                .domain_validation_options()
                                .iter()
                                .map(|v| DomainValidation {
                                    domain: canonical_name(v.domain_name()),
                                    method: v.validation_method().map(|m| m.as_str().to_string()),
                                    status: v.validation_status().map(|s| s.as_str().to_string()),
                                    record: v.resource_record().map(|r| ValidationRecord {
                                        name: canonical_name(r.name()),
                                        rtype: r.r#type().as_str().to_string(),
                                        value: canonical_name(r.value()),
                                    }),
                                })
                                .collect(),
                        })
                    }
                },
            };
            cert
        }
    })
    .await;
    Acm {
        certificates: Observed::present(
            described
                .into_iter()
                .map(|c| (c.arn.clone(), c))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}
