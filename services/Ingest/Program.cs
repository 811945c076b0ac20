using Experiments.Ingest.Apis;
using Experiments.Ingest.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapEventsApi();
app.MapErrorQueuesApi();

app.Run();
