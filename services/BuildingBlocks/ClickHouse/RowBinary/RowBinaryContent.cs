using System.Net;

namespace Experiments.ClickHouse;

/// <summary>
/// A request body produced while it is sent (chunked transfer): the rows are written through a
/// <see cref="RowBinaryWriter"/> straight into the connection, never held as one array.
/// </summary>
internal sealed class RowBinaryContent(Func<RowBinaryWriter, CancellationToken, ValueTask> writeRows) : HttpContent
{
    public long RowCount { get; private set; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        using var writer = new RowBinaryWriter(stream);
        await writeRows(writer, cancellationToken).ConfigureAwait(false);
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        RowCount = writer.RowCount;
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
