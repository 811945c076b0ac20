namespace Experiments.ClickHouse.Tests.Client;

public sealed class ClickHouseSettingsTests
{
    [Fact]
    public void Parses_the_connection_string_form()
    {
        var settings = ClickHouseSettings.Parse("Host=127.0.0.1;Port=58123;Username=default;Password=;Database=default");

        Assert.Equal(new Uri("http://127.0.0.1:58123/"), settings.Endpoint);
        Assert.Equal("default", settings.Username);
        Assert.Equal("", settings.Password);
        Assert.Equal("default", settings.Database);
    }

    [Fact]
    public void Parses_the_url_form_with_credentials_and_database()
    {
        var settings = ClickHouseSettings.Parse("http://reader:p%40ss@ch.local:8124/?database=events");

        Assert.Equal(new Uri("http://ch.local:8124/"), settings.Endpoint);
        Assert.Equal("reader", settings.Username);
        Assert.Equal("p@ss", settings.Password);
        Assert.Equal("events", settings.Database);
    }

    [Fact]
    public void Defaults_what_is_left_out()
    {
        var settings = ClickHouseSettings.Parse("http://localhost");

        Assert.Equal(8123, settings.Endpoint.Port);
        Assert.Equal("default", settings.Username);
        Assert.Equal("default", settings.Database);
        Assert.DoesNotContain("secret", ClickHouseSettings.Parse("Host=h;Password=secret").ToString(), StringComparison.Ordinal);
    }
}
