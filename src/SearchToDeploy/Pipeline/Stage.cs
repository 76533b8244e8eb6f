
namespace SearchToDeploy.Pipeline;

public enum Stage { Search, Train, Export, Validate, Package }
