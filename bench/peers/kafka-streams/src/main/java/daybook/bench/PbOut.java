package daybook.bench;

import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Writes one protobuf message by field number, proto3 style: fields in the order written (callers
 * write them in field-number order, as protobuf's own serialisers do) and default values (empty
 * string, 0, false) left out. Nested messages are written as bytes fields.
 */
final class PbOut {
    private final ByteArrayOutputStream bytes;
    private final CodedOutputStream out;

    PbOut() {
        this(128);
    }

    PbOut(int expectedSize) {
        bytes = new ByteArrayOutputStream(expectedSize);
        out = CodedOutputStream.newInstance(bytes, Math.min(Math.max(expectedSize, 32), 4096));
    }

    PbOut string(int field, String value) {
        try {
            if (!value.isEmpty()) out.writeString(field, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    PbOut bytes(int field, byte[] value) {
        try {
            if (value.length > 0) out.writeByteArray(field, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** A nested message (written even when empty, as protobuf does for a set message field). */
    PbOut message(int field, byte[] value) {
        try {
            out.writeByteArray(field, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    PbOut uint64(int field, long value) {
        try {
            if (value != 0) out.writeUInt64(field, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    PbOut int64(int field, long value) {
        try {
            if (value != 0) out.writeInt64(field, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    PbOut uint32(int field, int value) {
        try {
            if (value != 0) out.writeUInt32(field, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    PbOut enumValue(int field, int value) {
        try {
            if (value != 0) out.writeEnum(field, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    PbOut bool(int field, boolean value) {
        try {
            if (value) out.writeBool(field, true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    byte[] toByteArray() {
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
