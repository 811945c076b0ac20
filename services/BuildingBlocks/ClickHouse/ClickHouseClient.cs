using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Experiments.ClickHouse;

/// <summary>
/// A small client for ClickHouse's HTTP interface, written against what ClickHouse 18.16 and current
/// servers both accept: statements in the POST body, results as <c>JSONCompact</c>, inserts as a
/// streamed <c>RowBinary</c> body, errors parsed into <see cref="ClickHouseException"/>.
/// Its surface (execute, query with a row mapper, insert with a row writer) is what callers need,
/// so that it can be swapped for ClickHouse.Client later without touching them.
/// </summary>
public sealed class ClickHouseClient
{
    private const int MaxErrorBodyChars = 64 * 1024;
    private readonly HttpClient _http;

    public ClickHouseClient(HttpClient httpClient, ClickHouseSettings settings)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(settings);
        _http = httpClient;
        Settings = settings;
    }

    public ClickHouseClient(HttpClient httpClient, string connectionString)
        : this(httpClient, ClickHouseSettings.Parse(connectionString))
    {
    }

    public ClickHouseSettings Settings { get; }

    /// <summary>The same server and HttpClient, another default database.</summary>
    public ClickHouseClient WithDatabase(string database) => new(_http, Settings.WithDatabase(database));

    /// <summary>True when the server answers <c>/ping</c> with <c>Ok.</c>; false when it does not answer.</summary>
    public async Task<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri(Settings.Endpoint, "ping"), cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode && body.StartsWith("Ok.", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is HttpRequestException or IOException
            || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>Runs a statement (DDL, INSERT ... SELECT, ALTER ...) and discards any output.</summary>
    public async Task ExecuteAsync(ClickHouseSql sql, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        using var request = QueryRequest(sql.Text, waitEndOfQuery: false);
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await body.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a SELECT and maps each row. <c>FORMAT JSONCompact</c> is appended: the statement must not
    /// name a format of its own.
    /// </summary>
    public async Task<IReadOnlyList<T>> QueryAsync<T>(
        ClickHouseSql sql, Func<ClickHouseRow, T> map, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(map);
        // wait_end_of_query: the server answers only once the query ended, so a failure midway
        // comes back as an HTTP error with ClickHouse's message, not as a truncated body.
        using var request = QueryRequest(sql.Text.TrimEnd().TrimEnd(';') + "\nFORMAT JSONCompact", waitEndOfQuery: true);
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var document = await JsonDocument.ParseAsync(body, default, cancellationToken).ConfigureAwait(false);

        var columns = document.RootElement.GetProperty("meta").EnumerateArray()
            .Select(column => new ClickHouseColumn(column.GetProperty("name").GetString()!, column.GetProperty("type").GetString()!))
            .ToArray();
        var data = document.RootElement.GetProperty("data");
        var rows = new List<T>(data.GetArrayLength());
        foreach (var values in data.EnumerateArray())
        {
            rows.Add(map(new ClickHouseRow(columns, values)));
        }

        return rows;
    }

    /// <summary>The first column of the first row (default when there is no row).</summary>
    public async Task<T?> QueryScalarAsync<T>(ClickHouseSql sql, CancellationToken cancellationToken = default)
    {
        var rows = await QueryAsync(sql, row => row.Get<T>(0), cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? default : rows[0];
    }

    /// <summary>
    /// Streams rows into <paramref name="table"/> as RowBinary: <paramref name="writeRows"/> writes each
    /// row's columns in the order of <paramref name="columns"/>, then awaits <see cref="RowBinaryWriter.EndRowAsync"/>.
    /// Returns the number of rows sent.
    /// </summary>
    public async Task<long> InsertAsync(
        string table,
        IReadOnlyList<string> columns,
        Func<RowBinaryWriter, CancellationToken, ValueTask> writeRows,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(writeRows);
        if (columns.Count == 0)
        {
            throw new ArgumentException("An insert names its columns.", nameof(columns));
        }

        var statement = new StringBuilder("INSERT INTO ");
        ClickHouseIdentifier.Parse(table).AppendTo(statement);
        statement.Append(" (");
        for (var i = 0; i < columns.Count; i++)
        {
            if (i > 0)
            {
                statement.Append(", ");
            }

            ClickHouseIdentifier.Parse(columns[i]).AppendTo(statement);
        }

        statement.Append(") FORMAT RowBinary");

        var content = new RowBinaryContent(writeRows);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, RequestUri(("query", statement.ToString())))
        {
            Content = content,
        };
        Authorize(request);
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return content.RowCount;
    }

    /// <summary>Streams <paramref name="rows"/>, each written by <paramref name="writeRow"/> (use a static lambda).</summary>
    public Task<long> InsertAsync<TRow>(
        string table,
        IReadOnlyList<string> columns,
        IEnumerable<TRow> rows,
        Action<RowBinaryWriter, TRow> writeRow,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(writeRow);
        return InsertAsync(table, columns, async (writer, ct) =>
        {
            foreach (var row in rows)
            {
                writeRow(writer, row);
                await writer.EndRowAsync(ct).ConfigureAwait(false);
            }
        }, cancellationToken);
    }

    private HttpRequestMessage QueryRequest(string sql, bool waitEndOfQuery)
    {
        var uri = waitEndOfQuery ? RequestUri(("wait_end_of_query", "1")) : RequestUri();
        var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new StringContent(sql, Encoding.UTF8, "text/plain"),
        };
        Authorize(request);
        return request;
    }

    private Uri RequestUri(params (string Name, string Value)[] parameters)
    {
        var query = new StringBuilder("?database=").Append(Uri.EscapeDataString(Settings.Database));
        foreach (var (name, value) in parameters)
        {
            query.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }

        return new Uri(Settings.Endpoint, "/" + query);
    }

    private void Authorize(HttpRequestMessage request)
    {
        request.Headers.Add("X-ClickHouse-User", Settings.Username);
        if (Settings.Password.Length > 0)
        {
            request.Headers.Add("X-ClickHouse-Key", Settings.Password);
        }
    }

    // Sends and returns a successful response (headers read); anything else becomes a ClickHouseException.
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException
            || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw ClickHouseException.Unreachable(Settings.Endpoint, e);
        }

        if (response.StatusCode == HttpStatusCode.OK)
        {
            return response;
        }

        using (response)
        {
            var body = await ReadErrorBodyAsync(response, cancellationToken).ConfigureAwait(false);
            var codeHeader = response.Headers.TryGetValues("X-ClickHouse-Exception-Code", out var values) ? values.FirstOrDefault() : null;
            throw ClickHouseException.FromResponse(response.StatusCode, body, codeHeader);
        }
    }

    private static async Task<string> ReadErrorBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var buffer = new char[MaxErrorBodyChars];
            var read = await reader.ReadBlockAsync(buffer, cancellationToken).ConfigureAwait(false);
            return new string(buffer, 0, read);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return "";
        }
    }
}
