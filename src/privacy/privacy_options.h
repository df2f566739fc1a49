// The privacy lifecycle's configuration, as the service takes it.
#pragma once

#include <memory>
#include <string>

#include "privacy/erasure_service.h"
#include "privacy/retention_policy.h"
#include "privacy/retention_sweeper.h"

namespace eventlogger {

// The receipt key file the service makes in its data dir when an operator
// gave no key (`eventlogger verify-receipt --key` takes it, or its public
// half from `eventlogger receipt-key`).
inline constexpr const char* kDefaultReceiptKeyFile = "receipt-key.pem";

struct PrivacyOptions {
  // How long events are kept; null or empty: forever.
  std::shared_ptr<const RetentionPolicy> retention;
  RetentionSweepOptions sweep;
  ErasureOptions erasure;
  // Erasure receipts are signed with an Ed25519 private key (PEM), or with
  // an HMAC secret; neither: DATA_DIR/receipt-key.pem, made on first start.
  std::string receipt_key_file;
  std::string receipt_hmac_secret;
  // Run erasure jobs and retention sweeps in this process (`serve`); a
  // Lambda, frozen between invocations, leaves them to a server or the CLI.
  bool background_jobs = true;

  std::string Validate() const {
    if (!receipt_key_file.empty() && !receipt_hmac_secret.empty()) {
      return "give either --receipt-key or --receipt-hmac-secret, not both";
    }
    if (std::string problem = erasure.Validate(); !problem.empty()) return problem;
    return sweep.Validate();
  }
};

}  // namespace eventlogger
