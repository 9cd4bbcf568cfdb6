import { hostileSlugs } from "./data/hostile-slugs"
import { breedFromImageUrl, breedName, parseBreedSlug } from "../src/breed"

test.each([
  ["husky", { main: "husky" }],
  ["hound-afghan", { main: "hound", sub: "afghan" }],
  ["a".repeat(40), { main: "a".repeat(40) }],
])("reads the breed slug %s", (slug, breed) => {
  expect(parseBreedSlug(slug)).toEqual(breed)
})

test.each(hostileSlugs)("rejects a slug with %s", (_case, slug) => {
  expect(parseBreedSlug(slug)).toBeNull()
})

test("rejects a slug that is not a string", () => {
  expect(parseBreedSlug(undefined)).toBeNull()
  expect(parseBreedSlug(["husky"])).toBeNull()
})

test("names a breed as people say it", () => {
  expect(breedName({ main: "hound", sub: "afghan" })).toBe("Afghan hound")
  expect(breedName({ main: "husky" })).toBe("Husky")
})

test("reads the breed from a dog.ceo image URL", () => {
  expect(breedFromImageUrl("https://images.dog.ceo/breeds/hound-afghan/n02088094_1003.jpg")).toEqual({
    main: "hound",
    sub: "afghan",
  })
  expect(breedFromImageUrl("https://images.dog.ceo/breeds/husky/n02110185_1469.jpg")).toEqual({
    main: "husky",
  })
})

test("finds no breed in an image URL without a valid one", () => {
  expect(breedFromImageUrl("https://example.com/dog.jpg")).toBeNull()
  expect(breedFromImageUrl("https://images.dog.ceo/breeds/Bad_Name/1.jpg")).toBeNull()
})
