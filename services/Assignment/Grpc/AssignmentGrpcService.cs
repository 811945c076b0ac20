using Experiments.Assignment.Evaluation;
using Experiments.Contracts.Assignment.V1;
using Grpc.Core;

namespace Experiments.Assignment.Grpc;

/// <summary>gRPC face of the evaluator, for the other services.</summary>
public sealed class AssignmentGrpcService(Evaluator evaluator) : AssignmentService.AssignmentServiceBase
{
    public override Task<EvaluateResponse> Evaluate(EvaluateRequest request, ServerCallContext context)
        => Task.FromResult(EvaluateOne(request.ProjectId, request.User, request.FlagKeys));

    public override Task<EvaluateBatchResponse> EvaluateBatch(EvaluateBatchRequest request, ServerCallContext context)
    {
        var response = new EvaluateBatchResponse();
        foreach (var user in request.Users)
        {
            response.Results.Add(EvaluateOne(request.ProjectId, user, request.FlagKeys));
        }
        return Task.FromResult(response);
    }

    private EvaluateResponse EvaluateOne(string projectId, User? user, IReadOnlyCollection<string> flagKeys)
    {
        if (string.IsNullOrWhiteSpace(projectId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "project_id is required."));
        }
        if (user is null || (string.IsNullOrEmpty(user.UserId) && string.IsNullOrEmpty(user.DeviceId)))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "user.user_id or user.device_id is required to bucket the user."));
        }

        var response = new EvaluateResponse();
        var evaluated = evaluator.Evaluate(projectId,
            new EvaluationUser(NullIfEmpty(user.UserId), NullIfEmpty(user.DeviceId), user.UserProperties), flagKeys);
        foreach (var a in evaluated)
        {
            response.Variants.Add(new Variant
            {
                FlagKey = a.FlagKey,
                Key = a.Key,
                Value = a.Key,
                PayloadJson = a.PayloadJson ?? "",
                ExperimentId = a.ExperimentId.ToString(),
            });
        }
        return response;
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
