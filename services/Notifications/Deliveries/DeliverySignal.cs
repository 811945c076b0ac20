using Experiments.Messaging;

namespace Experiments.Notifications.Deliveries;

/// <summary>Wakes the dispatcher when new deliveries are queued, so that it need not wait for its next poll.</summary>
public sealed class DeliverySignal : WakeSignal;
