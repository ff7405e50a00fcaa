using Drp.Workflows;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

// The Functions app hosts the very orchestrators and activities that the local host (drp) runs: the adapters in
// DrpFunctions only forward to the classes in Drp.Workflows.
var builder = FunctionsApplication.CreateBuilder(args);
builder.Services.AddDrpServices(builder.Configuration);
builder.Build().Run();
