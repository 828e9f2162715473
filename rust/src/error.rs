//! The one error type of the core. Each variant maps to one class of
//! `gridledger.errors` (see `py/errors.rs`); every variant names the offending
//! field and its value, as SPEC §8 asks.

use std::fmt;

/// Every failure the pure core can report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreError {
    /// A malformed argument: wrong length, out of range, inconsistent sizes.
    InvalidArgument {
        field: String,
        value: String,
        reason: String,
    },
    /// An unknown option name (algorithm, rule, mode).
    BadConfiguration {
        field: String,
        value: String,
        reason: String,
    },
    /// A signature, key or encoding that cannot be used.
    InvalidSignature {
        field: String,
        value: String,
        reason: String,
    },
    /// Input data that breaks its format's rules; `message` is complete
    /// (it names the source, line and column) and is shown as is.
    BadData {
        field: String,
        value: String,
        message: String,
    },
    /// A transaction or block that breaks a ledger rule (SPEC §2).
    Rule {
        rule: Rule,
        field: String,
        value: String,
        reason: String,
    },
}

/// Which ledger rule a `CoreError::Rule` breaks; each maps to one class of
/// `gridledger.errors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A signature that does not verify.
    Signature,
    /// An output spent twice (in one block or across blocks).
    DoubleSpend,
    /// Outputs above inputs.
    InsufficientFunds,
    /// An input not owned by a signer, or an unregistered creator.
    NotAuthorised,
    /// A header, link, Merkle root, height, period or miner that is wrong.
    Block,
    /// Any other broken transaction rule (unknown input, closed period, bad amount).
    Transaction,
}

impl CoreError {
    pub fn invalid(
        field: impl Into<String>,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        Self::InvalidArgument {
            field: field.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    pub fn config(
        field: impl Into<String>,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        Self::BadConfiguration {
            field: field.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    pub fn signature(
        field: impl Into<String>,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        Self::InvalidSignature {
            field: field.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    pub fn data(
        field: impl Into<String>,
        value: impl fmt::Display,
        message: impl Into<String>,
    ) -> Self {
        Self::BadData {
            field: field.into(),
            value: value.to_string(),
            message: message.into(),
        }
    }

    pub fn rule(
        rule: Rule,
        field: impl Into<String>,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        Self::Rule {
            rule,
            field: field.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// The (field, value) pair carried by every variant.
    pub fn field_value(&self) -> (&str, &str) {
        match self {
            Self::InvalidArgument { field, value, .. }
            | Self::BadConfiguration { field, value, .. }
            | Self::InvalidSignature { field, value, .. }
            | Self::BadData { field, value, .. }
            | Self::Rule { field, value, .. } => (field, value),
        }
    }
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidArgument {
                field,
                value,
                reason,
            }
            | Self::BadConfiguration {
                field,
                value,
                reason,
            }
            | Self::InvalidSignature {
                field,
                value,
                reason,
            }
            | Self::Rule {
                field,
                value,
                reason,
                ..
            } => {
                write!(f, "{field} = {value}: {reason}")
            }
            Self::BadData { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for CoreError {}

pub type CoreResult<T> = Result<T, CoreError>;
