using Experiments.Gateway.Apis;
using Experiments.Gateway.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseAuthentication();
app.UseAuthorization();

app.MapOpenApi();
app.MapExperimentsApi();
app.MapAnalysisApi();
app.MapTargetingApi();

app.Run();
