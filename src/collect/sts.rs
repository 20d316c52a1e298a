//! STS: the account the credentials belong to.

use aws_config::SdkConfig;

use super::Caller;
use crate::inventory::{CollectError, ErrorKind, GET_CALLER_IDENTITY};

pub async fn account(ctx: &Caller, cfg: &SdkConfig) -> Result<String, CollectError> {
    let client = aws_sdk_sts::Client::new(cfg);
    let out = ctx
        .call(GET_CALLER_IDENTITY, client.get_caller_identity().send())
        .await?;
    out.account().map(str::to_string).ok_or_else(|| {
        ctx.error(
            GET_CALLER_IDENTITY,
            ErrorKind::Other,
            "the answer named no account".into(),
        )
    })
}
