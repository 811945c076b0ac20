using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Experiments.ClickHouse;

/// <summary>
/// Writes rows in ClickHouse's <c>RowBinary</c> format into a pooled buffer that is flushed to the
/// request stream between rows. Write each column of a row in the INSERT's column order, then
/// call <see cref="EndRowAsync"/>. Integers are little-endian; a String is its UTF-8 length as
/// LEB128 and the bytes; Date is UInt16 days and DateTime UInt32 seconds since 1970-01-01 UTC;
/// Nullable(T) is a 1-byte null flag then T when not null; Array(T) is a LEB128 count then items.
/// </summary>
public sealed class RowBinaryWriter : IDisposable
{
    internal const int FlushThreshold = 64 * 1024;
    private const int InitialCapacity = 128 * 1024;
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private readonly Stream _stream;
    private byte[] _buffer;
    private int _position;

    internal RowBinaryWriter(Stream stream)
    {
        _stream = stream;
        _buffer = ArrayPool<byte>.Shared.Rent(InitialCapacity);
    }

    /// <summary>Rows ended so far.</summary>
    public long RowCount { get; private set; }

    public void WriteUInt8(byte value) => Reserve(1)[0] = value;

    public void WriteBoolean(bool value) => WriteUInt8(value ? (byte)1 : (byte)0);

    public void WriteInt8(sbyte value) => WriteUInt8(unchecked((byte)value));

    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Reserve(2), value);

    public void WriteInt16(short value) => BinaryPrimitives.WriteInt16LittleEndian(Reserve(2), value);

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), value);

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Reserve(4), value);

    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Reserve(8), value);

    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Reserve(8), value);

    public void WriteFloat32(float value) => BinaryPrimitives.WriteSingleLittleEndian(Reserve(4), value);

    public void WriteFloat64(double value) => BinaryPrimitives.WriteDoubleLittleEndian(Reserve(8), value);

    /// <summary>A String column: LEB128 byte length, then the UTF-8 bytes.</summary>
    public void WriteString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        WriteString(value.AsSpan());
    }

    public void WriteString(ReadOnlySpan<char> value)
    {
        var byteCount = Utf8.GetByteCount(value);
        WriteVarUInt((ulong)byteCount);
        Utf8.GetBytes(value, Reserve(byteCount));
    }

    /// <summary>A String column from bytes already encoded (any bytes: ClickHouse strings are binary).</summary>
    public void WriteString(ReadOnlySpan<byte> utf8)
    {
        WriteVarUInt((ulong)utf8.Length);
        utf8.CopyTo(Reserve(utf8.Length));
    }

    /// <summary>A FixedString(N) column: the bytes, padded with zero bytes to N.</summary>
    public void WriteFixedString(ReadOnlySpan<byte> value, int length)
    {
        if (value.Length > length)
        {
            throw new ArgumentException($"{value.Length} bytes do not fit FixedString({length}).", nameof(value));
        }

        var target = Reserve(length);
        value.CopyTo(target);
        target[value.Length..].Clear();
    }

    public void WriteFixedString(string value, int length)
    {
        ArgumentNullException.ThrowIfNull(value);
        var byteCount = Utf8.GetByteCount(value);
        if (byteCount > length)
        {
            throw new ArgumentException($"'{value}' is {byteCount} UTF-8 bytes: it does not fit FixedString({length}).", nameof(value));
        }

        var target = Reserve(length);
        var written = Utf8.GetBytes(value, target);
        target[written..].Clear();
    }

    /// <summary>A Date column: days since 1970-01-01 as UInt16.</summary>
    public void WriteDate(DateOnly value)
    {
        var days = value.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
        if (days is < 0 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "ClickHouse Date holds 1970-01-01 to 2149-06-06.");
        }

        WriteUInt16((ushort)days);
    }

    /// <summary>A DateTime column: whole seconds since 1970-01-01 UTC as UInt32 (Unspecified kind is taken as UTC).</summary>
    public void WriteDateTime(DateTime value)
    {
        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value;
        var seconds = (utc.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond;
        if (seconds is < 0 or > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "ClickHouse DateTime holds 1970-01-01 to 2106-02-07 UTC.");
        }

        WriteUInt32((uint)seconds);
    }

    public void WriteDateTime(DateTimeOffset value) => WriteDateTime(value.UtcDateTime);

    /// <summary>
    /// A UUID column in ClickHouse's order: the UUID's first 8 bytes as a little-endian UInt64, then
    /// its last 8 bytes likewise (so each half of the textual order is reversed).
    /// </summary>
    public void WriteUuid(Guid value)
    {
        var target = Reserve(16);
        value.TryWriteBytes(target, bigEndian: true, out _);
        target[..8].Reverse();
        target[8..].Reverse();
    }

    /// <summary>Nullable(T): the value is null (write nothing else for this column).</summary>
    public void WriteNull() => WriteUInt8(1);

    /// <summary>Nullable(T): a value follows.</summary>
    public void WriteNotNull() => WriteUInt8(0);

    public void WriteNullableString(string? value)
    {
        if (value is null)
        {
            WriteNull();
            return;
        }

        WriteNotNull();
        WriteString(value);
    }

    /// <summary>Array(T): the item count; then write each item.</summary>
    public void WriteArrayLength(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        WriteVarUInt((ulong)count);
    }

    /// <summary>
    /// Array(T) of a fixed-size number type, in one copy: T must match the column (int for
    /// Array(Int32), ulong for Array(UInt64), double for Array(Float64), ...).
    /// </summary>
    public void WriteArray<T>(ReadOnlySpan<T> items)
        where T : unmanaged
    {
        WriteArrayLength(items.Length);
        var bytes = MemoryMarshal.AsBytes(items);
        if (BitConverter.IsLittleEndian)
        {
            bytes.CopyTo(Reserve(bytes.Length));
            return;
        }

        throw new PlatformNotSupportedException("RowBinary arrays are copied as little-endian memory.");
    }

    public void WriteStringArray(IReadOnlyList<string> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        WriteArrayLength(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            WriteString(items[i]);
        }
    }

    /// <summary>LEB128, as used for lengths and counts.</summary>
    public void WriteVarUInt(ulong value)
    {
        var target = Reserve(10);
        var count = 0;
        while (value >= 0x80)
        {
            target[count++] = (byte)(value | 0x80);
            value >>= 7;
        }

        target[count++] = (byte)value;
        _position -= 10 - count;
    }

    /// <summary>
    /// Whole rows encoded as RowBinary elsewhere (carried in a message, for example), in the insert's column
    /// order: what is buffered is sent first, then these bytes as they are, without a copy.
    /// </summary>
    public async ValueTask WriteRowsAsync(ReadOnlyMemory<byte> rowBinary, long rowCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await _stream.WriteAsync(rowBinary, cancellationToken).ConfigureAwait(false);
        RowCount += rowCount;
    }

    /// <summary>Ends a row; sends the buffer when it holds enough (completes synchronously otherwise).</summary>
    public ValueTask EndRowAsync(CancellationToken cancellationToken = default)
    {
        RowCount++;
        return _position >= FlushThreshold ? FlushAsync(cancellationToken) : ValueTask.CompletedTask;
    }

    internal async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_position == 0)
        {
            return;
        }

        await _stream.WriteAsync(_buffer.AsMemory(0, _position), cancellationToken).ConfigureAwait(false);
        _position = 0;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _position = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Reserve(int count)
    {
        if (_buffer.Length - _position < count)
        {
            Grow(count);
        }

        var span = _buffer.AsSpan(_position, count);
        _position += count;
        return span;
    }

    // Only a row larger than the space left grows the buffer; rows are flushed between them.
    private void Grow(int count)
    {
        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _position + count));
        _buffer.AsSpan(0, _position).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
