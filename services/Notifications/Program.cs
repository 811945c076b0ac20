using Experiments.Contracts.Grpc;
using Experiments.Notifications.Extensions;
using Experiments.Notifications.Grpc;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGrpcService<NotificationGrpcService>();

app.Run();
