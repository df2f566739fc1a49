// Where the service's receipt signer comes from (PrivacyOptions): an
// operator's Ed25519 key file or HMAC secret, else a key the service makes
// once in its data dir and keeps (receipts must stay verifiable across
// restarts, so it is never replaced).
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "privacy/erasure_receipt.h"
#include "privacy/privacy_options.h"

namespace eventlogger {

Result<std::unique_ptr<ReceiptSigner>> OpenReceiptSigner(const PrivacyOptions& options, const std::string& data_dir);

}  // namespace eventlogger
