using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Experiments.Ingest.Model;

/// <summary>
/// The binary body of <see cref="Contracts.Messages.EventBatchReceived"/>: the batch's rows, already in ClickHouse's
/// RowBinary layout, so that the consumer concatenates the rows of many messages into one insert without reading them.
/// <code>
/// byte     version (1)
/// varuint  exposure rows, varuint byte length, rows: <see cref="ExposureColumns"/>
/// varuint  event rows,    varuint byte length, rows: <see cref="EventColumns"/>
/// </code>
/// A new column means a new version with its own column lists; a consumer refuses versions it does not know
/// (the message is parked in the error queue, never guessed at).
/// </summary>
public static class EventPayload
{
    public const byte Version = 1;

    public static readonly string[] ExposureColumns =
        ["project_id", "flag_key", "variant", "user_id", "device_id", "time", "insert_id", "user_properties", "platform", "os_name", "received_at"];

    public static readonly string[] EventColumns =
        ["project_id", "event_type", "user_id", "device_id", "time", "insert_id", "event_properties", "user_properties", "platform", "os_name", "received_at"];

    /// <summary>Builds the payload from the two tables' rows.</summary>
    public static byte[] Build(RowBuffer exposures, RowBuffer events)
    {
        var length = 1 + VarUIntLength((ulong)exposures.Rows) + VarUIntLength((ulong)exposures.Length) + exposures.Length
            + VarUIntLength((ulong)events.Rows) + VarUIntLength((ulong)events.Length) + events.Length;
        var payload = GC.AllocateUninitializedArray<byte>(length);
        var span = payload.AsSpan();
        span[0] = Version;
        var at = 1;
        foreach (var section in new[] { exposures, events })
        {
            at += WriteVarUInt(span[at..], (ulong)section.Rows);
            at += WriteVarUInt(span[at..], (ulong)section.Length);
            section.Written.CopyTo(span[at..]);
            at += section.Length;
        }
        return payload;
    }

    /// <summary>The rows of each table in a payload; <see cref="InvalidDataException"/> when it is not a payload of this version.</summary>
    public static (PayloadSection Exposures, PayloadSection Events) Read(byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Length == 0 || payload[0] != Version)
        {
            throw new InvalidDataException(payload.Length == 0
                ? "The event payload is empty."
                : $"The event payload has format version {payload[0]}; this consumer reads version {Version}.");
        }
        var at = 1;
        var exposures = ReadSection(payload, ref at);
        var events = ReadSection(payload, ref at);
        if (at != payload.Length)
        {
            throw new InvalidDataException($"The event payload has {payload.Length - at} bytes after its last section.");
        }
        return (exposures, events);
    }

    private static PayloadSection ReadSection(byte[] payload, ref int at)
    {
        var rows = ReadVarUInt(payload, ref at);
        var length = ReadVarUInt(payload, ref at);
        if (length > (ulong)(payload.Length - at) || rows > length)
        {
            throw new InvalidDataException("The event payload is truncated.");
        }
        var section = new PayloadSection((long)rows, payload.AsMemory(at, (int)length));
        at += (int)length;
        return section;
    }

    private static ulong ReadVarUInt(byte[] payload, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (at >= payload.Length)
            {
                throw new InvalidDataException("The event payload is truncated.");
            }
            var b = payload[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
        throw new InvalidDataException("The event payload has a malformed length.");
    }

    internal static int VarUIntLength(ulong value)
    {
        var length = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            length++;
        }
        return length;
    }

    internal static int WriteVarUInt(Span<byte> target, ulong value)
    {
        var count = 0;
        while (value >= 0x80)
        {
            target[count++] = (byte)(value | 0x80);
            value >>= 7;
        }
        target[count++] = (byte)value;
        return count;
    }
}

/// <summary>One table's rows in a payload, as RowBinary.</summary>
public readonly record struct PayloadSection(long Rows, ReadOnlyMemory<byte> RowBinary);

/// <summary>
/// RowBinary rows written into a pooled, growable buffer (one per table per request): strings as LEB128 length
/// then UTF-8 bytes, DateTime as UInt32 seconds. Return it with <see cref="Dispose"/>.
/// </summary>
public sealed class RowBuffer : IDisposable
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);
    private byte[] _buffer;

    public RowBuffer(int capacity = 64 * 1024) => _buffer = ArrayPool<byte>.Shared.Rent(capacity);

    public int Length { get; private set; }

    public int Rows { get; private set; }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    public void EndRow() => Rows++;

    public void WriteString(ReadOnlySpan<byte> utf8)
    {
        WriteVarUInt((ulong)utf8.Length);
        utf8.CopyTo(Reserve(utf8.Length));
    }

    public void WriteString(string value)
    {
        var count = Utf8.GetByteCount(value);
        WriteVarUInt((ulong)count);
        Utf8.GetBytes(value, Reserve(count));
    }

    public void WriteDateTime(DateTimeOffset value)
        => BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), (uint)Math.Clamp(value.ToUnixTimeSeconds(), 0, uint.MaxValue));

    public void WriteVarUInt(ulong value)
    {
        var target = Reserve(10);
        Length -= 10 - EventPayload.WriteVarUInt(target, value);
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        Length = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private Span<byte> Reserve(int count)
    {
        if (_buffer.Length - Length < count)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, Length + count));
            _buffer.AsSpan(0, Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        var span = _buffer.AsSpan(Length, count);
        Length += count;
        return span;
    }
}
