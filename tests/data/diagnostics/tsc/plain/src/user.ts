export interface User {
  id: number;
  name: string;
}

export function greet(user: User): string {
  const id: string = user.id;
  return `hello ${user.nam}`;
}
