//! The one conversion from `CoreError` to the classes of `gridledger.errors`.

use pyo3::import_exception;
use pyo3::prelude::*;

use crate::error::{CoreError, Rule};

import_exception!(gridledger.errors, InvalidArgumentError);
import_exception!(gridledger.errors, BadConfigurationError);
import_exception!(gridledger.errors, InvalidSignatureError);
import_exception!(gridledger.errors, BadDataError);
import_exception!(gridledger.errors, DoubleSpendError);
import_exception!(gridledger.errors, InsufficientFundsError);
import_exception!(gridledger.errors, NotAuthorisedError);
import_exception!(gridledger.errors, InvalidBlockError);
import_exception!(gridledger.errors, InvalidTransactionError);

impl From<CoreError> for PyErr {
    fn from(err: CoreError) -> PyErr {
        let msg = err.to_string();
        let (field, value) = err.field_value();
        let args = (msg, field.to_owned(), value.to_owned());
        match err {
            CoreError::InvalidArgument { .. } => InvalidArgumentError::new_err(args),
            CoreError::BadConfiguration { .. } => BadConfigurationError::new_err(args),
            CoreError::InvalidSignature { .. } => InvalidSignatureError::new_err(args),
            CoreError::BadData { .. } => BadDataError::new_err(args),
            CoreError::Rule { rule, .. } => match rule {
                Rule::Signature => InvalidSignatureError::new_err(args),
                Rule::DoubleSpend => DoubleSpendError::new_err(args),
                Rule::InsufficientFunds => InsufficientFundsError::new_err(args),
                Rule::NotAuthorised => NotAuthorisedError::new_err(args),
                Rule::Block => InvalidBlockError::new_err(args),
                Rule::Transaction => InvalidTransactionError::new_err(args),
            },
        }
    }
}
