// Breeds as the dog API names them: a main breed ("hound") and maybe a sub-breed ("afghan").
// In URLs a breed is a slug, "main" or "main-sub", as in dog.ceo's image URLs.

export type Breed = { main: string; sub?: string }

// Anything else in a URL is rejected before it can reach the API or the page.
const SLUG = /^([a-z]+)(?:-([a-z]+))?$/
const MAX_SLUG_LENGTH = 40

export function parseBreedSlug(slug: unknown): Breed | null {
  if (typeof slug !== "string" || slug.length > MAX_SLUG_LENGTH) return null
  const match = SLUG.exec(slug)
  if (!match) return null
  return match[2] ? { main: match[1], sub: match[2] } : { main: match[1] }
}

export function breedSlug({ main, sub }: Breed): string {
  return sub ? `${main}-${sub}` : main
}

// "hound-afghan" → "Afghan hound", as people say it.
export function breedName({ main, sub }: Breed): string {
  const name = sub ? `${sub} ${main}` : main
  return name.charAt(0).toUpperCase() + name.slice(1)
}

// dog.ceo's image URLs hold the breed: https://images.dog.ceo/breeds/hound-afghan/n02088094_1003.jpg
export function breedFromImageUrl(url: string): Breed | null {
  const match = /\/breeds\/([^/]+)\//.exec(new URL(url).pathname)
  return match ? parseBreedSlug(match[1]) : null
}
