package daybook.bench;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * The commands of W1 (daybook.v1.CommandEnvelope with open_account or post_entry), read by field
 * number from the wire format (events/daybook.proto). As in Daybook (events/codec.cc):
 *   - a record that does not parse (bad varint, truncated, invalid UTF-8 in a string) is unreadable;
 *   - a field this schema does not know, a known field with another wire type, or an enum value
 *     the enum does not list is remembered, and refused later as envelope_invalid;
 *   - a message field given twice is merged, a scalar given twice keeps the last value, and of
 *     several oneof payloads the last one counts.
 */
final class Commands {
    private Commands() {}

    static final int OPEN_ACCOUNT = 100;
    static final int POST_ENTRY = 101;

    /** The payload field numbers of Daybook's CommandEnvelope oneof (all of them, W1 or not). */
    private static final int[] DAYBOOK_PAYLOADS = {100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112,
        113, 114, 115, 116, 190, 200, 201, 202, 203, 204, 205, 206, 210, 211, 212, 220, 221, 222, 223, 224, 225, 230,
        231, 300, 301, 302, 303, 304, 310, 320, 330, 331};

    static boolean isDaybookPayload(int field) {
        for (int f : DAYBOOK_PAYLOADS)
            if (f == field) return true;
        return false;
    }

    /** Thrown when a record cannot be read as a CommandEnvelope at all. */
    static final class Unreadable extends Exception {
        private static final long serialVersionUID = 1L;

        Unreadable(String message) {
            super(message, null, false, false);
        }
    }

    static final class Envelope {
        String commandId = "";
        String correlationId = "";
        String causationEventId = "";
        String actor = "";
        String source = "";
        int payloadField; // 0: none
        byte[] payload = new byte[0]; // the payload's bytes as given (merged occurrences concatenated)
        OpenAccount openAccount; // when payloadField == OPEN_ACCOUNT
        PostEntry postEntry; // when payloadField == POST_ENTRY
        boolean unknown; // an unknown field directly in the envelope

        /** The payload's field 1: the routing key (book_id); null when unsupported or missing. */
        String routingKey() {
            if (openAccount != null) return openAccount.bookId;
            if (postEntry != null) return postEntry.bookId;
            return null;
        }

        /**
         * Daybook's first_unknown_field: the path of the first message with unknown fields or of the
         * first unknown enum value, fields visited in number order; null when there is none.
         */
        String firstUnknown() {
            if (unknown) return "<root>";
            if (openAccount != null) return openAccount.firstUnknown();
            if (postEntry != null) return postEntry.firstUnknown();
            return null;
        }

        /**
         * SHA-256 of the payload alone with its field number (tag, length, bytes), as Daybook's
         * fingerprint_of; of nothing when there is no payload.
         */
        byte[] fingerprint(MessageDigest sha256) {
            sha256.reset();
            if (payloadField != 0) {
                byte[] head = new byte[20];
                int n = putVarint(head, 0, (payloadField << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED);
                n = putVarint(head, n, payload.length);
                sha256.update(head, 0, n);
                sha256.update(payload);
            }
            return sha256.digest();
        }
    }

    static final class Constraints {
        boolean debitsMustNotExceedCredits;
        boolean creditsMustNotExceedDebits;
        long limitMinor;
        boolean unknown;
    }

    static final class OpenAccount {
        String bookId = "";
        String accountId = "";
        String name = "";
        int type;
        String currency = "";
        int scale; // uint32
        String parentAccountId = "";
        Constraints constraints; // null when absent
        boolean unknown;

        String firstUnknown() {
            if (unknown) return "open_account";
            if (type != 0 && (type < 0 || type > 5)) return "open_account.type";
            if (constraints != null && constraints.unknown) return "open_account.constraints";
            return null;
        }
    }

    static final class Leg {
        String accountId = "";
        int side;
        long amountMinor;
        String currency = "";
        int accountRole;
        boolean unknown;

        /** Deterministic serialisation (as Daybook's serialize(leg_proto)), to compare repeats. */
        byte[] canonical() {
            return new PbOut(48).string(1, accountId).enumValue(2, side).int64(3, amountMinor).string(4, currency)
                    .enumValue(5, accountRole).toByteArray();
        }
    }

    static final class PostEntry {
        String bookId = "";
        String entryId = "";
        String effectiveDate = "";
        String memo = "";
        final List<Leg> legs = new ArrayList<>(2);
        boolean adjustment;
        boolean unknown;

        String firstUnknown() {
            if (unknown) return "post_entry";
            for (int i = 0; i < legs.size(); ++i) {
                Leg l = legs.get(i);
                String at = "post_entry.legs[" + i + "]";
                if (l.unknown) return at;
                if (l.side != 0 && (l.side < 0 || l.side > 2)) return at + ".side";
                if (l.accountRole != 0 && (l.accountRole < 0 || l.accountRole > 9)) return at + ".account_role";
            }
            return null;
        }
    }

    // ---- Reading ----------------------------------------------------------------------------

    static Envelope parseEnvelope(byte[] value) throws Unreadable {
        Envelope e = new Envelope();
        try {
            CodedInputStream in = CodedInputStream.newInstance(value);
            for (;;) {
                int tag = in.readTag();
                if (tag == 0) break;
                int field = WireFormat.getTagFieldNumber(tag);
                boolean delimited = WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
                if (delimited && field >= 1 && field <= 5) {
                    String s = in.readStringRequireUtf8();
                    switch (field) {
                        case 1 -> e.commandId = s;
                        case 2 -> e.correlationId = s;
                        case 3 -> e.causationEventId = s;
                        case 4 -> e.actor = s;
                        default -> e.source = s;
                    }
                } else if (delimited && isDaybookPayload(field)) {
                    byte[] p = in.readByteArray();
                    if (field == e.payloadField) {
                        byte[] merged = new byte[e.payload.length + p.length];
                        System.arraycopy(e.payload, 0, merged, 0, e.payload.length);
                        System.arraycopy(p, 0, merged, e.payload.length, p.length);
                        e.payload = merged;
                    } else {
                        e.payloadField = field;
                        e.payload = p;
                    }
                } else {
                    e.unknown = true;
                    skip(in, tag);
                }
            }
            if (e.payloadField == OPEN_ACCOUNT) e.openAccount = parseOpenAccount(CodedInputStream.newInstance(e.payload));
            else if (e.payloadField == POST_ENTRY) e.postEntry = parsePostEntry(CodedInputStream.newInstance(e.payload));
        } catch (InvalidProtocolBufferException x) {
            throw new Unreadable("not a daybook.v1.CommandEnvelope: " + x.getMessage());
        } catch (IOException x) {
            throw new Unreadable("not a daybook.v1.CommandEnvelope: " + x);
        }
        return e;
    }

    private static void skip(CodedInputStream in, int tag) throws IOException {
        if (!in.skipField(tag)) throw new InvalidProtocolBufferException("unexpected end-group tag");
    }

    private static int wireType(int tag) {
        return WireFormat.getTagWireType(tag);
    }

    private static final int VARINT = WireFormat.WIRETYPE_VARINT;
    private static final int DELIMITED = WireFormat.WIRETYPE_LENGTH_DELIMITED;

    private static OpenAccount parseOpenAccount(CodedInputStream in) throws IOException {
        OpenAccount a = new OpenAccount();
        for (;;) {
            int tag = in.readTag();
            if (tag == 0) return a;
            int field = WireFormat.getTagFieldNumber(tag);
            int wt = wireType(tag);
            if (wt == DELIMITED && field == 1) a.bookId = in.readStringRequireUtf8();
            else if (wt == DELIMITED && field == 2) a.accountId = in.readStringRequireUtf8();
            else if (wt == DELIMITED && field == 3) a.name = in.readStringRequireUtf8();
            else if (wt == VARINT && field == 4) a.type = in.readEnum();
            else if (wt == DELIMITED && field == 5) a.currency = in.readStringRequireUtf8();
            else if (wt == VARINT && field == 6) a.scale = in.readUInt32();
            else if (wt == DELIMITED && field == 7) a.parentAccountId = in.readStringRequireUtf8();
            else if (wt == DELIMITED && field == 8) {
                if (a.constraints == null) a.constraints = new Constraints();
                int limit = in.pushLimit(in.readRawVarint32());
                parseConstraints(in, a.constraints);
                in.popLimit(limit);
            } else {
                a.unknown = true;
                skip(in, tag);
            }
        }
    }

    private static void parseConstraints(CodedInputStream in, Constraints c) throws IOException {
        for (;;) {
            int tag = in.readTag();
            if (tag == 0) return;
            int field = WireFormat.getTagFieldNumber(tag);
            int wt = wireType(tag);
            if (wt == VARINT && field == 1) c.debitsMustNotExceedCredits = in.readBool();
            else if (wt == VARINT && field == 2) c.creditsMustNotExceedDebits = in.readBool();
            else if (wt == VARINT && field == 3) c.limitMinor = in.readInt64();
            else {
                c.unknown = true;
                skip(in, tag);
            }
        }
    }

    private static PostEntry parsePostEntry(CodedInputStream in) throws IOException {
        PostEntry p = new PostEntry();
        for (;;) {
            int tag = in.readTag();
            if (tag == 0) return p;
            int field = WireFormat.getTagFieldNumber(tag);
            int wt = wireType(tag);
            if (wt == DELIMITED && field == 1) p.bookId = in.readStringRequireUtf8();
            else if (wt == DELIMITED && field == 2) p.entryId = in.readStringRequireUtf8();
            else if (wt == DELIMITED && field == 3) p.effectiveDate = in.readStringRequireUtf8();
            else if (wt == DELIMITED && field == 4) p.memo = in.readStringRequireUtf8();
            else if (wt == DELIMITED && field == 5) {
                int limit = in.pushLimit(in.readRawVarint32());
                p.legs.add(parseLeg(in));
                in.popLimit(limit);
            } else if (wt == VARINT && field == 6) p.adjustment = in.readBool();
            else {
                p.unknown = true;
                skip(in, tag);
            }
        }
    }

    private static Leg parseLeg(CodedInputStream in) throws IOException {
        Leg l = new Leg();
        for (;;) {
            int tag = in.readTag();
            if (tag == 0) return l;
            int field = WireFormat.getTagFieldNumber(tag);
            int wt = wireType(tag);
            if (wt == DELIMITED && field == 1) l.accountId = in.readStringRequireUtf8();
            else if (wt == VARINT && field == 2) l.side = in.readEnum();
            else if (wt == VARINT && field == 3) l.amountMinor = in.readInt64();
            else if (wt == DELIMITED && field == 4) l.currency = in.readStringRequireUtf8();
            else if (wt == VARINT && field == 5) l.accountRole = in.readEnum();
            else {
                l.unknown = true;
                skip(in, tag);
            }
        }
    }

    static int putVarint(byte[] buf, int at, int value) {
        long v = value & 0xffffffffL;
        while (v >= 0x80) {
            buf[at++] = (byte) (v | 0x80);
            v >>>= 7;
        }
        buf[at++] = (byte) v;
        return at;
    }
}
