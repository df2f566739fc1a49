#include "privacy/receipt_keys.h"

#include <filesystem>

#include "core/log.h"

namespace eventlogger {

Result<std::unique_ptr<ReceiptSigner>> OpenReceiptSigner(const PrivacyOptions& options, const std::string& data_dir) {
  if (!options.receipt_hmac_secret.empty()) return ReceiptSigner::FromHmacSecret(options.receipt_hmac_secret);
  if (!options.receipt_key_file.empty()) return ReceiptSigner::FromEd25519KeyFile(options.receipt_key_file);
  const std::string path = (std::filesystem::path(data_dir) / kDefaultReceiptKeyFile).string();
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    std::filesystem::create_directories(data_dir, error);
    Status made = GenerateEd25519KeyFile(path);
    // Another process starting on the same data dir may have made it first.
    if (!made.ok() && made.code() != StatusCode::kAlreadyExists) return made;
    if (made.ok()) {
      log::Warn("no --receipt-key: erasure receipts are signed with a new key made in the data dir; back it up, "
                "and give auditors its public half (eventlogger receipt-key)",
                {{"path", path}});
    }
  }
  return ReceiptSigner::FromEd25519KeyFile(path);
}

}  // namespace eventlogger
