//! TLS probes: one handshake per name with SNI, nothing sent after it. The certificate is
//! verified as a browser would (public roots plus `--ca-file`, the probed name, the
//! time), but the handshake is completed whatever the verdict, so that a bad certificate
//! is still seen and described rather than only refused.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use tokio::io::AsyncWriteExt;

use super::{connect_failure, Prober, Target, PROBE_TLS};
use crate::inventory::probe::{ServedCertificate, TlsResult};
use crate::inventory::{ErrorKind, Observed, Timestamp};

/// The crypto provider of every probe: aws-lc-rs, as the AWS SDK's TLS uses.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A client configuration that verifies as browsers do, for the HTTP probes.
pub fn verifying_config(roots: Arc<rustls::RootCertStore>) -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("aws-lc-rs supports the default versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// Verifies like [`WebPkiServerVerifier`], records the verdict, and lets the handshake go
/// on; signatures are still checked, so the server must hold the certificate's key.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    verdict: Mutex<Option<Result<(), rustls::Error>>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map(|_| ());
        *self.verdict.lock().expect("not poisoned") = Some(verdict);
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A certificate problem in the words an operator uses.
pub fn describe(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired".into(),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "not yet valid".into()
            }
            CertificateError::UnknownIssuer => "unknown issuer".into(),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "name mismatch".into()
            }
            CertificateError::BadSignature => "bad signature".into(),
            CertificateError::Revoked => "revoked".into(),
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                "not for server authentication".into()
            }
            other => format!("invalid certificate ({other:?})"),
        },
        other => other.to_string(),
    }
}

/// One handshake with `host` on `port`.
pub async fn probe(p: &Prober, host: &str, port: u16) -> Observed<TlsResult> {
    let addr = match p.target(PROBE_TLS, host, port).await {
        Target::Addr(a) => a,
        Target::NoAddress(why) => {
            return Observed::present(TlsResult {
                name_not_found: true,
                failure: Some(why),
                ..TlsResult::default()
            })
        }
        Target::Unavailable(e) => return Observed::unavailable(e),
    };
    let unavailable = |kind: ErrorKind, what: String| {
        Observed::unavailable(p.error(PROBE_TLS, kind, format!("{host}:{port} via {addr}: {what}")))
    };
    let tcp = match tokio::time::timeout(p.opts.timeout, tokio::net::TcpStream::connect(addr)).await
    {
        Err(_) => return unavailable(ErrorKind::Timeout, "no TCP connection in time".into()),
        Ok(Err(e)) => match connect_failure(&e) {
            Ok(why) => {
                return Observed::present(TlsResult {
                    address: Some(addr.to_string()),
                    failure: Some(why),
                    ..TlsResult::default()
                })
            }
            Err(f) => return unavailable(f.kind, f.message),
        },
        Ok(Ok(s)) => s,
    };
    let inner = match WebPkiServerVerifier::builder_with_provider(p.roots.clone(), provider())
        .build()
    {
        Ok(v) => v,
        Err(e) => return unavailable(ErrorKind::Other, format!("no usable trusted roots: {e}")),
    };
    let recording = Arc::new(Recording {
        inner,
        verdict: Mutex::new(None),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("aws-lc-rs supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(recording.clone())
        .with_no_client_auth();
    let server_name = match ServerName::try_from(host.to_string()) {
        Ok(n) => n,
        Err(e) => return unavailable(ErrorKind::Other, format!("not a server name: {e}")),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let handshake = tokio::time::timeout(p.opts.timeout, connector.connect(server_name, tcp)).await;
    let mut result = TlsResult {
        address: Some(addr.to_string()),
        ..TlsResult::default()
    };
    let mut stream = match handshake {
        Err(_) => {
            return unavailable(
                ErrorKind::Timeout,
                "the TLS handshake did not finish in time".into(),
            )
        }
        Ok(Err(e)) => match handshake_failure(&e) {
            Ok(why) => {
                result.failure = Some(why);
                return Observed::present(result);
            }
            Err(f) => return unavailable(f.kind, f.message),
        },
        Ok(Ok(s)) => s,
    };
    {
        let (_, conn) = stream.get_ref();
        result.protocol = conn.protocol_version().map(|v| match v {
            rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
            rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
            other => format!("{other:?}"),
        });
        result.cipher_suite = conn
            .negotiated_cipher_suite()
            .map(|c| format!("{:?}", c.suite()));
        if let Some(chain) = conn.peer_certificates() {
            result.certificate = chain.first().and_then(|leaf| served(leaf, chain.len()));
        }
    }
    result.verify_error = match recording.verdict.lock().expect("not poisoned").take() {
        Some(Ok(())) => None,
        Some(Err(e)) => Some(describe(&e)),
        None => Some("the certificate was never presented for verification".into()),
    };
    // A polite close; the answer does not matter.
    let _ = tokio::time::timeout(p.opts.timeout, stream.shutdown()).await;
    Observed::present(result)
}

/// Why a handshake failed, from the error tokio-rustls gives: what the server showed (a TLS
/// alert, a closed connection), or nothing observed (a timeout, an unreachable network).
fn handshake_failure(e: &std::io::Error) -> Result<String, super::ProbeFailure> {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return Ok(match inner {
            rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion) => {
                "the server offers no protocol version this probe speaks (TLS 1.2 or 1.3)".into()
            }
            rustls::Error::AlertReceived(a) => format!("the server sent the alert {a:?}"),
            rustls::Error::PeerIncompatible(p) => format!("incompatible server: {p:?}"),
            other => format!("handshake failed: {other}"),
        });
    }
    connect_failure(e).map(|why| format!("{why} during the handshake"))
}

/// The parts of the leaf certificate the rules read.
pub fn served(der: &CertificateDer<'_>, chain_length: usize) -> Option<ServedCertificate> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    let mut dns_names: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|g| match g {
                    GeneralName::DNSName(n) => Some(n.to_ascii_lowercase()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    dns_names.sort();
    dns_names.dedup();
    let when = |t: &x509_parser::time::ASN1Time| Timestamp(t.to_datetime());
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der.as_ref());
    Some(ServedCertificate {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: cert.raw_serial_as_string().to_ascii_lowercase(),
        not_before: when(&cert.validity().not_before),
        not_after: when(&cert.validity().not_after),
        dns_names,
        sha256: digest
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":"),
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        chain_length,
    })
}
