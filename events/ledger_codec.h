#pragma once
// Conversion between the ledger's plain structs and their protobuf messages.

#include <optional>

#include "daybook.pb.h"
#include "events/ledger_types.h"

namespace daybook::events {

// The ledger command in an envelope, or nullopt when the payload is not a ledger command.
std::optional<ledger_command> ledger_command_of(const v1::CommandEnvelope& envelope);
// The ledger event in an envelope, or nullopt when the payload is not a ledger event.
std::optional<ledger_event> ledger_event_of(const v1::EventEnvelope& envelope);

// The state of a hold just placed (shared by the decider's state and the projection).
v1::HoldState hold_state_of(const hold_placed& e);

// Puts a command into an envelope's payload (used by clients and tests).
void set_payload(v1::CommandEnvelope& envelope, const ledger_command& command);
// Puts an event into an envelope's payload.
void set_payload(v1::EventEnvelope& envelope, const ledger_event& event);

}  // namespace daybook::events
