using Experiments.Contracts.Grpc;

namespace Experiments.Contracts.Tests;

/// <summary>grpc-timeout and grpc-message encodings as PROTOCOL-HTTP2.md defines them.</summary>
public sealed class GrpcWireFormatTests
{
    [Theory]
    [InlineData(100, "100m")]
    [InlineData(1, "1m")]
    [InlineData(30_000, "30000m")]
    [InlineData(99_999_999, "99999999m")]
    [InlineData(100_000_000, "100000S")]
    public void Timeout_is_encoded_in_milliseconds_until_it_needs_more_than_8_digits(long milliseconds, string expected)
    {
        Assert.Equal(expected, GrpcTimeout.Encode(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Fact]
    public void Sub_millisecond_timeout_is_encoded_in_microseconds_rounded_up()
    {
        Assert.Equal("251u", GrpcTimeout.Encode(TimeSpan.FromTicks(2501)));
    }

    [Fact]
    public void Huge_timeout_is_capped_at_8_digits_of_hours()
    {
        Assert.Equal("99999999H", GrpcTimeout.Encode(TimeSpan.MaxValue));
        Assert.All(new[] { 1.5, 1e6, 1e9, 1e11 }, seconds =>
            Assert.InRange(GrpcTimeout.Encode(TimeSpan.FromSeconds(seconds)).Length, 2, 9));
    }

    [Theory]
    [InlineData("1H", 3_600_000)]
    [InlineData("2M", 120_000)]
    [InlineData("3S", 3_000)]
    [InlineData("100m", 100)]
    [InlineData("5000u", 5)]
    [InlineData("7000000n", 7)]
    [InlineData("99999999m", 99_999_999)]
    public void Timeout_units_parse(string value, long expectedMilliseconds)
    {
        Assert.True(GrpcTimeout.TryParse(value, out var timeout));
        Assert.Equal(expectedMilliseconds, (long)timeout.TotalMilliseconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("m")]
    [InlineData("10")]
    [InlineData("10x")]
    [InlineData("-1S")]
    [InlineData("123456789S")]
    [InlineData("1 S")]
    public void Malformed_timeouts_are_rejected(string value)
    {
        Assert.False(GrpcTimeout.TryParse(value, out _));
    }

    [Theory]
    [InlineData("plain ascii: ok!", "plain ascii: ok!")]
    [InlineData("100%", "100%25")]
    [InlineData("line\nbreak", "line%0Abreak")]
    [InlineData("ü", "%C3%BC")]
    [InlineData("✓", "%E2%9C%93")]
    public void Status_message_is_percent_encoded_outside_printable_ascii(string message, string expected)
    {
        Assert.Equal(expected, GrpcStatusMessage.Encode(message));
        Assert.Equal(message, GrpcStatusMessage.Decode(expected));
    }

    [Theory]
    [InlineData("50%", "50%")]
    [InlineData("%zz", "%zz")]
    [InlineData("%C3", "%C3")]
    public void Malformed_percent_escapes_are_kept_as_they_are(string value, string expected)
    {
        Assert.Equal(expected, GrpcStatusMessage.Decode(value));
    }

    [Theory]
    [InlineData("application/grpc", true)]
    [InlineData("application/grpc+proto", true)]
    [InlineData("application/grpc; charset=utf-8", true)]
    [InlineData("Application/GRPC", true)]
    [InlineData("application/grpc-web", false)]
    [InlineData("application/json", false)]
    [InlineData(null, false)]
    public void Grpc_content_types_are_recognised(string? contentType, bool expected)
    {
        Assert.Equal(expected, GrpcProtocol.IsGrpcContentType(contentType));
    }
}
