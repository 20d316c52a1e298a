//! The registry: every rule, listed once. A rule is on when a policy has its table.

use super::{
    deployment, dns, ecr, http, iam, network, operations, rds, secrets, security_groups, tls,
    AnyRule,
};

/// Every rule, registered once. Order does not matter: reports sort findings.
pub static RULES: &[&dyn AnyRule] = &[
    // 2.1 Network
    &network::VpcCidrMismatch,
    &network::AlbSubnetWithoutInternetRoute,
    &network::AlbSubnetsSingleAz,
    &network::AppSubnetNotPrivate,
    &network::DbSubnetRoutesToInternet,
    &network::DbSubnetGroupSingleAz,
    &network::NatGatewayNotUsable,
    // 2.1 Security groups
    &security_groups::AlbSgUnexpectedIngress,
    &security_groups::ApiSgIngressNotFromAlb,
    &security_groups::DbSgIngressNotFromApi,
    &security_groups::SgDbPortOpenToCidr,
    &security_groups::SgOpenToWorld,
    &security_groups::SgAdminPortOpenToWorld,
    &security_groups::SgEgressUnrestricted,
    // 2.1 IAM
    &iam::EcsExecutionRoleMisconfigured,
    &iam::S3AccessNotScoped,
    &iam::SecretsAccessNotScoped,
    &iam::AppSecretReadableByOthers,
    &iam::AdminAccessNotAllowed,
    &iam::EcrPushMisassigned,
    // 2.2 RDS
    &secrets::RdsPasswordNotInSecretsManager,
    &rds::RdsEngineVersionTooOld,
    &rds::RdsInstanceClassTooSmall,
    &rds::RdsMultiAzDisabled,
    &rds::RdsStorageInsufficient,
    &rds::RdsDeletionProtectionDisabled,
    &rds::RdsBackupRetentionTooShort,
    &rds::RdsParameterGroupMisconfigured,
    &rds::RdsEnhancedMonitoringDisabled,
    &rds::RdsManualSnapshotMissing,
    &rds::RdsPubliclyAccessible,
    &rds::RdsStorageUnencrypted,
    &rds::RdsSnapshotPublic,
    &rds::RdsSnapshotUnencrypted,
    &rds::RdsRestoreTestUnattested,
    // 2.3 Container registry
    &ecr::EcrRepositoryMissing,
    &ecr::EcrLifecyclePolicyMissing,
    &ecr::EcrImageTagOffStrategy,
    &ecr::EcrScanOnPushDisabled,
    &ecr::EcrTagsMutable,
    // 2.4 TLS and domain
    &dns::Route53ZoneMissing,
    &dns::DnsDelegationMismatch,
    &dns::DnsRecordNotPointingAtAlb,
    &dns::DnsNameNotResolvingToAlb,
    &dns::MailDnsRecordsMissing,
    &tls::AcmCertificateNotCoveringNames,
    &tls::AcmCertificateExpiring,
    &tls::AcmCertificateNotAutoRenewing,
    &tls::AlbHttpsCertificateNotCoveringNames,
    &tls::ServedCertificateNotFromListener,
    &tls::AlbTlsPolicyOutdated,
    &tls::TlsEndpointInvalid,
    &tls::TlsCertificateExpiring,
    &http::HttpNotRedirectingToHttps,
    &http::HttpListenerNotRedirecting301,
    // 3 Deployment
    &http::HealthEndpointFailing,
    &deployment::DeployFilesMissing,
    &deployment::DeployWorkflowLiteralCredentials,
    // 4 Operations
    &operations::EcsServiceScalingMisconfigured,
    &operations::LogGroupWithoutRetention,
    &operations::RdsRestoreLagAboveRpo,
    &operations::RdsBackupsNotInAnotherRegion,
    &operations::RtoNotAttested,
    &secrets::RequiredSecretMissing,
    &secrets::SecretRotationDisabled,
    &operations::HandoffDocDrift,
];

/// Rule ids that changed, with the id that replaced them and why: a policy or waiver that
/// names an old id is told the new one.
pub static RENAMED: &[(&str, &str, &str)] = &[(
    "app-principal-admin-access",
    "admin-access-not-allowed",
    "it now asks every user and role of the account, not only the app's",
)];

/// The help for an unknown rule id: its new name, or the closest id.
pub fn unknown_help(id: &str) -> Option<String> {
    if let Some((_, new, why)) = RENAMED.iter().find(|(old, _, _)| *old == id) {
        return Some(format!("`{id}` was renamed to `{new}`: {why}"));
    }
    crate::input::diag::closest(id, RULES.iter().map(|r| r.meta().id))
        .map(|c| format!("did you mean `{c}`?"))
}

pub fn find(id: &str) -> Option<&'static dyn AnyRule> {
    RULES.iter().copied().find(|r| r.meta().id == id)
}
