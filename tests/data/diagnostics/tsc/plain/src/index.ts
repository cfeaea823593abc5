import { greet } from "./user";

console.log(greet({ id: 1 }));
