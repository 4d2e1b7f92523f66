#pragma once
// Personal data in events is encrypted per data subject (crypto-shredding, DESIGN.md "Events"):
// each subject has its own 256-bit data key, kept outside Kafka in a key store; the event
// carries only AES-256-GCM ciphertext. Erasing a subject deletes its key: the ciphertext stays in
// the log, so the hash chain and every proof still verify, but nobody can read it any more.
//
// Key store: a directory of one file per subject (name: SHA-256 of the subject id, hex), each
// the subject's data key wrapped (AES-256-GCM) by the master key, with the subject id as
// associated data. Files are created with O_EXCL and renamed into place, so processes sharing
// the directory (processor, projector, CLI) agree on one key per subject. The master key (32
// bytes, hex, in a file of mode 0600) is generated on first use when missing; in production it
// belongs in a KMS or HSM, and the directory on storage whose deletes are final (erasure here is
// the removal of the wrapped key; the master key is what makes a stray copy useless).
//
// Sealed field: 0x01 || nonce (12) || ciphertext || tag (16); associated data: the subject id.
//
// Personal fields today: a counterparty's name (subject "<book>/<counterparty id>") and an
// employee's name (subject "employee <book>/<employee id>": the space, which no id has, keeps it
// apart from every counterparty's subject).

#include <optional>
#include <string>
#include <vector>

#include "daybook.pb.h"
#include "events/result.h"

namespace daybook::consumers {

class keystore {
public:
    // Opens the directory and the master key file; `create`: makes them when missing (the
    // processor), else a missing master key is an error (readers: they cannot open anything).
    static result<keystore, std::string> open(const std::string& dir, const std::string& master_key_file, bool create = true);

    // The subject's data key, created when it has none yet (nullopt only when creation fails).
    std::optional<std::string> key_for(const std::string& subject) const;
    // The subject's key if it exists (nullopt: never created, or erased).
    std::optional<std::string> existing_key(const std::string& subject) const;
    // Deletes the subject's key. True when a key was deleted.
    bool erase(const std::string& subject) const;

    std::string seal(const std::string& subject, const std::string& plaintext) const;
    // nullopt when the key is gone (erased) or the blob does not open.
    std::optional<std::string> open_sealed(const std::string& subject, const std::string& sealed) const;

private:
    std::string dir_;
    std::string master_;  // 32 bytes
    std::string path_of(const std::string& subject) const;
};

// The subject of a counterparty's personal data.
std::string counterparty_subject(const std::string& book, const std::string& counterparty);

// Replaces the personal fields of an event with their sealed form (in place). Returns false when
// a key could not be made (the command must then not be appended).
bool seal_personal_data(v1::EventEnvelope& event, const keystore& keys);

// What a reader shows for a sealed name: the plaintext; "[erased]" when the subject's key is
// gone; "[sealed]" when the reader has no key store.
std::string readable_name(const v1::CounterpartyRegistered& c, const keystore* keys);
std::string readable_name(const v1::EmployeeHired& e, const keystore* keys);
// For readers (HTTP, CLI): opens the key store read-only (no master key is ever made here) and
// replaces every sealed name by readable_name.
void open_names(std::vector<v1::CounterpartyRegistered>& list, const std::string& keystore_dir, const std::string& master_key_file);
void open_names(std::vector<v1::EmployeeState>& list, const std::string& keystore_dir, const std::string& master_key_file);

}  // namespace daybook::consumers
